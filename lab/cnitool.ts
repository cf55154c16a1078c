// cnitool (github.com/containernetworking/cni/cnitool, built by scripts/build-cnitool.sh): the
// reference libcni client, run with a clean environment. What it does, from its source (v1.3.1):
//   - `cnitool <verb> <network> <netns-path>`; every verb (gc and status too) wants both
//     arguments, so gc/status get a placeholder netns path.
//   - The network is looked up by `name` in NETCONFPATH (*.conf, *.conflist, *.json).
//   - CNI_IFNAME (default eth0), CNI_ARGS (`K=V;K=V`, every value non-empty, no '=' inside),
//     CAP_ARGS (JSON capability args) and CNI_PATH come from the environment; the plugins get
//     cnitool's whole environment.
//   - containerID = `cnitool-` + hex of the first 10 bytes of sha512(absolute netns path), so
//     one netns path is one attachment (see cnitoolContainerId).
//   - libcni caches each ADD result in /var/lib/cni/results/<network>-<containerID>-<ifname>
//     (fixed: cnitool has no flag for it) and deletes it on DEL; CHECK and DEL read it
//     (prevResult). Tests remove leftovers with removeCnitoolCache.
//   - gc passes no valid-attachment list: libcni first DELs *every* cached attachment of that
//     network, then sends GC (to configs with cniVersion >= 1.1.0 only). Use a network name no
//     other test shares.
//   - status sends STATUS only to configs with cniVersion >= 1.1.0; older ones exit 0 untouched.
//   - Any error exits 1 (plugin error codes are not passed on); stderr then has `Error: <msg>`,
//     cobra's usage text, and <msg> again as its last line. Plugins' stderr passes through to
//     cnitool's. ADD prints the result JSON on stdout; the other verbs print nothing.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { ExecError, run } from '../kernel/index.js';
import {
  CNI_CACHE_DIRS,
  type CniCacheFilter,
  libcniClientRunning,
  listCniCacheFiles,
  removeCniCacheFiles,
  rmdirEmptyChain,
} from './containerd/cni-cache.js';
import { cnitoolPath } from './containerd/paths.js';

export type CnitoolVerb = 'add' | 'check' | 'del' | 'gc' | 'status';

export interface CnitoolOptions {
  verb: CnitoolVerb;
  /** The network's `name` in a config in netconfDir. */
  network: string;
  /** e.g. /run/netns/NAME; required for add/check/del, a placeholder is passed for gc/status. */
  netnsPath?: string;
  /**
   * Run cnitool (so the plugins) inside this named netns, the "host" side: plugins like ptp put
   * the host end of the veth, its address and routes there. Tests must set it: the root
   * namespace is not theirs to change.
   */
  hostNetns?: string;
  /** NETCONFPATH. */
  netconfDir: string;
  /** CNI_PATH: plugin directories. */
  cniPath: string | readonly string[];
  /** CNI_IFNAME (cnitool's default: eth0). */
  ifname?: string;
  /** CNI_ARGS, as pairs (joined `K=V;K=V`). */
  cniArgs?: Readonly<Record<string, string>>;
  /** CAP_ARGS: capability args (runtimeConfig), JSON-encoded. */
  capArgs?: Readonly<Record<string, unknown>>;
  /** Extra environment (for the plugins: cnitool passes its whole environment on). */
  env?: Readonly<Record<string, string>>;
  /** cnitool binary; default the cached one (npm run setup). */
  cnitool?: string;
  timeoutMs?: number;
}

export interface CnitoolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** On failure: libcni's error message (the last line of stderr), e.g. `plugin type="ptp" failed (add): …`. */
  error?: string;
}

/** The netns argument gc/status get: cnitool insists on one and never looks at it. */
export const PLACEHOLDER_NETNS = '/dev/null';

/** Pure: the CNI_CONTAINERID cnitool uses for a netns path. */
export function cnitoolContainerId(netnsPath: string): string {
  const digest = createHash('sha512').update(resolve(netnsPath)).digest();
  return `cnitool-${digest.subarray(0, 10).toString('hex')}`;
}

/** Pure: cnitool's argv and its whole environment (nothing inherited). */
export function cnitoolCommand(
  o: CnitoolOptions,
  bin: string,
): { argv: string[]; env: Record<string, string> } {
  const netns = o.netnsPath ?? (o.verb === 'gc' || o.verb === 'status' ? PLACEHOLDER_NETNS : undefined);
  if (netns === undefined) throw new Error(`cnitool ${o.verb} needs a netnsPath`);
  const env: Record<string, string> = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_PATH: typeof o.cniPath === 'string' ? o.cniPath : o.cniPath.join(':'),
    NETCONFPATH: o.netconfDir,
  };
  if (o.ifname !== undefined) env.CNI_IFNAME = o.ifname;
  if (o.cniArgs && Object.keys(o.cniArgs).length > 0)
    env.CNI_ARGS = Object.entries(o.cniArgs)
      .map(([k, v]) => `${k}=${v}`)
      .join(';');
  if (o.capArgs) env.CAP_ARGS = JSON.stringify(o.capArgs);
  const argv = [bin, o.verb, o.network, netns];
  // nsenter --net only: the mount namespace stays the host's, so /run/netns paths resolve.
  if (o.hostNetns) argv.unshift('nsenter', `--net=/run/netns/${o.hostNetns}`);
  return { argv, env: { ...env, ...o.env } };
}

/** Runs cnitool; a non-zero exit is returned, not thrown (a signal or a missing binary throws). */
export async function runCnitool(o: CnitoolOptions): Promise<CnitoolResult> {
  const { argv, env } = cnitoolCommand(o, o.cnitool ?? cnitoolPath());
  try {
    const r = await run(argv, { env, timeoutMs: o.timeoutMs ?? 60_000 });
    return { ...r, exitCode: 0 };
  } catch (e) {
    if (e instanceof ExecError && e.exitCode !== null) {
      const error = e.stderr.trimEnd().split('\n').at(-1);
      return { stdout: e.stdout, stderr: e.stderr, exitCode: e.exitCode, error };
    }
    throw e;
  }
}

/** cnitool's cache files of `network` (only cnitool's own container IDs; one netns when given). */
function cnitoolFilter(network: string, netnsPath?: string): CniCacheFilter {
  return netnsPath
    ? { network, containerIds: new Set([cnitoolContainerId(netnsPath)]) }
    : { network, containerIdPrefix: 'cnitool-' };
}

export const listCnitoolCache = (network: string, netnsPath?: string): string[] =>
  listCniCacheFiles(cnitoolFilter(network, netnsPath));

/**
 * Removes cnitool's cached results of `network` (of one netns when given), then the cache dirs
 * when they are empty and no libcni client runs; returns the removed file names.
 */
export function removeCnitoolCache(network: string, netnsPath?: string): string[] {
  const removed = removeCniCacheFiles(cnitoolFilter(network, netnsPath));
  if (!libcniClientRunning()) rmdirEmptyChain(CNI_CACHE_DIRS);
  return removed;
}
