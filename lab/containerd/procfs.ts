// What a containerd instance left on the host, read from /proc and /sys: its processes (by the
// private dir in their command line, and their descendants), its mounts, the network namespaces
// its pause processes live in, its cgroups. Parsing is pure; the readers are thin.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listProcesses, type ProcessInfo } from '../../kernel/processes.js';

/** A live process: pid, ppid, comm, start time and command line (kernel/processes.ts reads them). */
export type ProcEntry = ProcessInfo;

/** Every live process (zombies left out). */
export const readProcs = (): ProcEntry[] => listProcesses();

/** Pure: the pids below `roots` in the process tree (roots excluded). */
export function descendants(procs: readonly ProcEntry[], roots: ReadonlySet<number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out = new Set<number>();
  const todo = [...roots];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    for (const c of children.get(pid) ?? []) {
      if (roots.has(c) || out.has(c)) continue;
      out.add(c);
      todo.push(c);
    }
  }
  return out;
}

/** Pure: /proc/mounts fields are octal-escaped (\040 for a space). */
const unescapeMount = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
}

/** Pure: parses /proc/mounts. */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [source, target, fstype] = line.split(' ');
    if (!source || !target || !fstype) continue;
    out.push({ source: unescapeMount(source), target: unescapeMount(target), fstype });
  }
  return out;
}

export const readMounts = (): MountEntry[] => parseMounts(readFileSync('/proc/mounts', 'utf8'));

/** Pure: mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(mounts: readonly MountEntry[], dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const hits = mounts.map((m) => m.target).filter((t) => t === dir || t.startsWith(prefix));
  return [...new Set(hits)].sort((a, b) => b.length - a.length);
}

/** Pure: where the cgroup hierarchies are mounted (v1 controllers and/or the v2 tree). */
export const cgroupRoots = (mounts: readonly MountEntry[]): string[] =>
  mounts.filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2').map((m) => m.target);

/** `dev:ino` of a namespace file (/proc/PID/ns/net or a /run/netns bind mount). */
export function nsId(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** Named namespaces (/run/netns/NAME) whose namespace is one of `ids`. */
export function netnsNamesFor(ids: ReadonlySet<string>, prefix = 'cni-'): string[] {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  return names.filter((n) => {
    if (!n.startsWith(prefix)) return false;
    const id = nsId(join('/run/netns', n));
    return id !== undefined && ids.has(id);
  });
}

/** Pids in a cgroup directory and every cgroup below it (cgroup.procs of each). */
export function cgroupPids(dir: string): Set<number> {
  const out = new Set<number>();
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    try {
      for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n'))
        if (pid) out.add(Number(pid));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // removed while we looked
    }
  };
  walk(dir);
  return out;
}
