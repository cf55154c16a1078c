// Shared helpers for integration tests: root gating, unique names, leftover checks.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { listNetns } from '../kernel/index.js';
import { listProcesses } from '../kernel/processes.js';
import { labWorkDir, statePath } from '../lab/state.js';

export const isRoot = process.getuid?.() === 0;
export const ROOT_REASON = 'needs root: creates network namespaces and runs FRR / kube-apiserver';

/** A short unique lab name, so runs and parallel test files never collide. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

/** Daemons the lab and tests start; none may outlive a run. */
export const DAEMONS = [
  'zebra',
  'bgpd',
  'watchfrr',
  'etcd',
  'kube-apiserver',
  'gobgpd',
  'bird',
  'containerd',
  'containerd-shim',
  'ip',
] as const;

/** Live processes whose command is one of `names`: pid → comm. */
export function liveProcesses(names: readonly string[]): Map<number, string> {
  return new Map(
    listProcesses()
      .filter((p) => names.includes(p.comm))
      .map((p) => [p.pid, p.comm]),
  );
}

/** What of lab `name` is still on the machine: namespaces, daemons, state file, work dir. */
export async function labLeftovers(name: string): Promise<string[]> {
  const left: string[] = [];
  for (const ns of await listNetns()) if (ns.startsWith(`${name}-`)) left.push(`netns ${ns}`);
  const marker = `${labWorkDir(name)}/`;
  for (const p of listProcesses()) if (p.cmdline.includes(marker)) left.push(`process ${p.comm}(${p.pid})`);
  if (existsSync(statePath(name))) left.push(`state file ${statePath(name)}`);
  if (existsSync(labWorkDir(name))) left.push(`work dir ${labWorkDir(name)}`);
  return left;
}

/** tabby agents (node processes running felix/main.ts): pid → command line. */
export function liveAgents(): Map<number, string> {
  return new Map(
    listProcesses()
      .filter((p) => p.cmdline.includes('felix/main.ts'))
      .map((p) => [p.pid, p.cmdline]),
  );
}
