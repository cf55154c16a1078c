// Shared helpers for integration tests: root gating, unique names, leftover checks.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { listNetns } from '../kernel/index.js';
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

interface ProcInfo {
  pid: number;
  comm: string;
  cmdline: string;
}

/** Live (non-zombie) processes. */
function liveProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      out.push({ pid: Number(entry), comm, cmdline });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Live processes whose command is one of `names`: pid → comm. */
export function liveProcesses(names: readonly string[]): Map<number, string> {
  return new Map(
    liveProcs()
      .filter((p) => names.includes(p.comm))
      .map((p) => [p.pid, p.comm]),
  );
}

/** What of lab `name` is still on the machine: namespaces, daemons, state file, work dir. */
export async function labLeftovers(name: string): Promise<string[]> {
  const left: string[] = [];
  for (const ns of await listNetns()) if (ns.startsWith(`${name}-`)) left.push(`netns ${ns}`);
  const marker = `${labWorkDir(name)}/`;
  for (const p of liveProcs()) if (p.cmdline.includes(marker)) left.push(`process ${p.comm}(${p.pid})`);
  if (existsSync(statePath(name))) left.push(`state file ${statePath(name)}`);
  if (existsSync(labWorkDir(name))) left.push(`work dir ${labWorkDir(name)}`);
  return left;
}

/** tabby agents (node processes running felix/main.ts): pid → command line. */
export function liveAgents(): Map<number, string> {
  return new Map(
    liveProcs()
      .filter((p) => p.cmdline.includes('felix/main.ts'))
      .map((p) => [p.pid, p.cmdline]),
  );
}
