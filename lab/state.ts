// The lab's state file: the record of everything `lab up` created, written *before* each thing
// is created, so `lab down` can remove all of it even after the runner crashed mid-way.
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRef } from '../kernel/index.js';
import { LabError } from './errors.js';
import type { BgpDaemon, LabRole } from './topology/types.js';

export const LAB_STATE_DIR = process.env.TABBY_LAB_STATE_DIR ?? '/run/tabby/labs';

/** A router's BGP neighbor, as planned: status tells router↔router from router↔server sessions by it. */
export interface LabPeerState {
  address: string;
  node: string;
  role: LabRole;
  remoteAs: number;
}

export interface LabNodeState {
  node: string;
  netns: string;
  role: LabRole;
  /** Routers: the BGP daemon's runtime directory (configs, sockets, pid files, logs). */
  runDir?: string;
  /** Routers: the BGP daemon (absent in states written before BIRD: FRR). */
  daemon?: BgpDaemon;
  /** Routers: their BGP neighbors. */
  peers?: LabPeerState[];
}

export interface LabState {
  version: 1;
  name: string;
  topologyFile?: string;
  phase: 'creating' | 'up' | 'deleting';
  createdAt: string;
  /** The `lab up` process; a state in phase `creating` whose owner is gone was left by a crash. */
  owner: ProcessRef;
  workDir: string;
  /** Namespaces, recorded before they are created. */
  nodes: LabNodeState[];
  /** Links as `node:interface` pairs, for status. */
  links: { a: string; b: string }[];
  /** Daemons started for the lab (also found through `ip netns pids` on teardown). */
  processes: ProcessRef[];
}

export const statePath = (name: string): string => join(LAB_STATE_DIR, `${name}.json`);
export const labWorkDir = (name: string): string => join(LAB_STATE_DIR, name);

export function readState(name: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(name), 'utf8')) as LabState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabError(
      `cannot read the state of lab "${name}" (${statePath(name)}): ${(e as Error).message}`,
    );
  }
}

export function listStates(): LabState[] {
  let files: string[];
  try {
    files = readdirSync(LAB_STATE_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((f) => readState(f.slice(0, -'.json'.length)))
    .filter((s): s is LabState => s !== undefined);
}

/**
 * Creates the state file; fails if the lab already has one (the file is also the lab's lock).
 * Written aside and hard-linked into place: a reader never sees it half-written.
 */
export function createState(state: LabState): void {
  mkdirSync(LAB_STATE_DIR, { recursive: true, mode: 0o755 });
  const tmp = `${statePath(state.name)}.${process.pid}.new`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  try {
    linkSync(tmp, statePath(state.name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LabError(
        `lab "${state.name}" is already up, or was left behind by a crash (${statePath(state.name)}): run \`lab down ${state.name}\` first`,
      );
    }
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Atomically rewrites the state file. */
export function writeState(state: LabState): void {
  const tmp = `${statePath(state.name)}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, statePath(state.name));
}

export function removeState(name: string): void {
  rmSync(statePath(name), { force: true });
  rmSync(`${statePath(name)}.tmp`, { force: true });
  // A createState killed between writing aside and linking.
  const aside = new RegExp(`^${name}\\.json\\.\\d+\\.new$`);
  for (const f of readdirSync(LAB_STATE_DIR).filter((x) => aside.test(x)))
    rmSync(join(LAB_STATE_DIR, f), { force: true });
}
