// libcni's result cache, shared by every libcni client on the host (cnitool, containerd's CRI):
// /var/lib/cni/results/<network>-<containerID>-<ifname>, JSON of kind "cniCacheV1", written after
// ADD and deleted after DEL. Neither cnitool nor containerd 1.6 lets us move it, so tests clean
// up only their own files, by network name and/or container ID, and the directories only when
// they are empty and no libcni client is running (libcniClientRunning, rmdirEmptyChain).
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listProcesses } from '../../kernel/processes.js';

export const CNI_CACHE_ROOT = '/var/lib/cni';
export const CNI_RESULTS_DIR = `${CNI_CACHE_ROOT}/results`;

export interface CniCacheFilter {
  /** Only files of this network (the conflist's `name`). */
  network?: string;
  /** Only files of these container IDs (cnitool-…, or containerd's 64-hex sandbox IDs). */
  containerIds?: ReadonlySet<string>;
  /** Only container IDs starting with this (e.g. `cnitool-`). */
  containerIdPrefix?: string;
}

/**
 * Pure: does a cache file name match? The name is `<network>-<containerID>-<ifname>`; network
 * names and IDs may contain dashes, so the ID is looked for after `<network>-` when the network
 * is given, else after any dash. An empty filter matches nothing.
 */
export function cacheFileMatches(file: string, f: CniCacheFilter): boolean {
  if (f.network === undefined && f.containerIds === undefined && f.containerIdPrefix === undefined)
    return false;
  const idStarts =
    f.network !== undefined
      ? file.startsWith(`${f.network}-`)
        ? [f.network.length + 1]
        : []
      : [...file.matchAll(/-/g)].map((m) => m.index + 1);
  return idStarts.some((i) => {
    const rest = file.slice(i);
    if (f.containerIds && ![...f.containerIds].some((id) => rest.startsWith(`${id}-`))) return false;
    return f.containerIdPrefix === undefined || rest.startsWith(f.containerIdPrefix);
  });
}

/** Cache files matching the filter (names only). An empty filter matches nothing. */
export function listCniCacheFiles(f: CniCacheFilter, dir = CNI_RESULTS_DIR): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files.filter((file) => cacheFileMatches(file, f));
}

/** Removes the matching cache files; returns their names. */
export function removeCniCacheFiles(f: CniCacheFilter, dir = CNI_RESULTS_DIR): string[] {
  const files = listCniCacheFiles(f, dir);
  for (const file of files) rmSync(join(dir, file), { force: true });
  return files;
}

/** comm of processes that may write to /run/containerd or /var/lib/cni at any moment. */
const LIBCNI_CLIENTS = /^(containerd|containerd-shim.*|cnitool)$/;

/**
 * Is a libcni client (containerd, its shims, cnitool) running, that could be about to write to
 * the shared dirs? One walk of /proc: callers ask once and decide for every shared dir.
 */
export const libcniClientRunning = (): boolean => listProcesses().some((p) => LIBCNI_CLIENTS.test(p.comm));

/**
 * rmdir each dir in turn (a dir, then its parent...), stopping at the first that is not empty or
 * not there: /var/lib/cni/results then /var/lib/cni, when no runtime's files are left in them.
 */
export function rmdirEmptyChain(dirs: readonly string[]): void {
  for (const d of dirs) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (another runtime's files, host-local's networks/), or not there
    }
  }
}

/** The libcni cache dirs, innermost first, for rmdirEmptyChain. */
export const CNI_CACHE_DIRS = [CNI_RESULTS_DIR, CNI_CACHE_ROOT] as const;
