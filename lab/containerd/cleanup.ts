// Tearing a private containerd instance down to nothing, whatever state it is in (running,
// hung, killed mid-RunPodSandbox), and listing what is left. Everything is found from the
// instance's private directory and cgroup parent, never by a broad name:
//   processes  containerd (by pid+start time), shims and runc (private dir in their cmdline),
//              every descendant, and anything in its cgroup parent (the pause processes)
//   netns      /run/netns/cni-* of its sandboxes (recorded paths, or the pause processes' netns)
//   mounts     overlay rootfs and shm tmpfs under the private dir
//   files      shim sockets in /run/containerd/s, libcni cache files of its sandbox IDs,
//              the private dir (root, state, runc root, sockets, opt, config, log)
//   cgroups    <hierarchy>/<cgroupParent>/<sandbox id>
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteNetns, isRunning, type ProcessRef, run, terminate } from '../../kernel/index.js';
import { LabError } from '../errors.js';
import {
  CNI_CACHE_DIRS,
  libcniClientRunning,
  listCniCacheFiles,
  removeCniCacheFiles,
  rmdirEmptyChain,
} from './cni-cache.js';
import { containerdLayout } from './config.js';
import {
  cgroupPids,
  cgroupRoots,
  descendants,
  mountsUnder,
  netnsNamesFor,
  nsId,
  type ProcEntry,
  readMounts,
  readProcs,
} from './procfs.js';

export const SHIM_SOCKET_DIR = '/run/containerd/s';

/** What one instance may leave behind; the handle fills it as it learns (pid, IDs, netns). */
export interface ContainerdFootprint {
  dir: string;
  /** The cgroup parent its sandboxes were put under (e.g. /tabby-ctrd-1a2b3c). */
  cgroupParent: string;
  containerd?: ProcessRef;
  /** The netns containerd itself runs in (the caller's); never deleted here. */
  netns?: string;
  sandboxIds: Set<string>;
  /** /var/run/netns/cni-… paths of its sandboxes. */
  sandboxNetns: Set<string>;
}

export function newFootprint(dir: string, cgroupParent: string, netns?: string): ContainerdFootprint {
  return { dir, cgroupParent, netns, sandboxIds: new Set(), sandboxNetns: new Set() };
}

const under = (dir: string) => `${dir}/`;

/** containerd, its shims and runc: processes naming the private dir in their command line. */
function ownProcesses(fp: ContainerdFootprint, procs: readonly ProcEntry[]): ProcEntry[] {
  return procs.filter(
    (p) =>
      p.cmdline.includes(under(fp.dir)) ||
      (fp.containerd !== undefined && p.pid === fp.containerd.pid && isRunning(fp.containerd)),
  );
}

/** Sandbox IDs containerd recorded on disk (for a crash: IDs the handle never saw). */
function sandboxIdsOnDisk(dir: string): string[] {
  const l = containerdLayout(dir);
  const dirs = [
    join(l.root, 'io.containerd.grpc.v1.cri', 'sandboxes'),
    join(l.state, 'io.containerd.grpc.v1.cri', 'sandboxes'),
    join(l.state, 'io.containerd.runtime.v2.task', 'k8s.io'),
  ];
  const ids = new Set<string>();
  for (const d of dirs) {
    try {
      for (const e of readdirSync(d)) if (/^[0-9a-f]{64}$/.test(e)) ids.add(e);
    } catch {
      // not there
    }
  }
  return [...ids];
}

/** Pure: the shim socket containerd 1.6 derives for a task: sha256(<address>/<namespace>/<id>). */
export const shimSocketFor = (address: string, id: string, namespace = 'k8s.io'): string =>
  join(
    SHIM_SOCKET_DIR,
    createHash('sha256')
      .update(join(address, namespace, id))
      .digest('hex'),
  );

/** Shim sockets of its tasks (left when a shim was killed): from the IDs and the bundles' `address` files. */
function shimSockets(fp: ContainerdFootprint, ids: ReadonlySet<string>): string[] {
  const socket = containerdLayout(fp.dir).socket;
  const out = new Set([...ids].map((id) => shimSocketFor(socket, id)));
  const tasks = join(containerdLayout(fp.dir).state, 'io.containerd.runtime.v2.task', 'k8s.io');
  let bundles: string[] = [];
  try {
    bundles = readdirSync(tasks);
  } catch {
    // no tasks dir
  }
  for (const id of bundles) {
    try {
      const addr = readFileSync(join(tasks, id, 'address'), 'utf8')
        .trim()
        .replace(/^unix:\/\//, '');
      if (addr.startsWith(`${SHIM_SOCKET_DIR}/`)) out.add(addr);
    } catch {
      // no address file
    }
  }
  return [...out];
}

/** rmdir a cgroup and its children, children first; cgroup dirs cannot be rm -rf'd. */
async function removeCgroupTree(path: string): Promise<void> {
  if (!existsSync(path)) return;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory()) await removeCgroupTree(join(path, e.name));
  }
  for (let i = 0; ; i++) {
    try {
      rmdirSync(path);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 50) throw e;
      await sleep(50); // the last task is still leaving
    }
  }
}

const cgroupDirs = (parent: string): string[] =>
  parent ? cgroupRoots(readMounts()).map((root) => join(root, parent)) : [];

async function unmount(target: string): Promise<void> {
  try {
    await run(['umount', target], { timeoutMs: 10_000 });
  } catch {
    await run(['umount', '-l', target], { timeoutMs: 10_000 }).catch(() => {});
  }
}

/**
 * Kills, unmounts and removes everything of the instance (with keepDir, only containerd's own
 * files in the dir: a restart in the same dir keeps the caller's CNI dirs). Best effort at every step (a step
 * that fails does not stop the next); throws at the end with every failure when something
 * could not be removed. Safe to call again, and on a dir with no instance.
 */
export async function teardownContainerd(
  fp: ContainerdFootprint,
  opts: { keepDir?: boolean } = {},
): Promise<void> {
  const problems: string[] = [];
  const attempt = async (what: string, f: () => unknown): Promise<void> => {
    try {
      await f();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
    }
  };

  // 1. Processes: the sandboxes' processes first, then shims and runc, then containerd.
  const procs = readProcs();
  const own = ownProcesses(fp, procs);
  const ownPids = new Set(own.map((p) => p.pid));
  // Pod processes: below containerd and its shims, and (should a shim have died, leaving them
  // to init) anything in the instance's cgroup parent.
  const inCgroups = new Set(cgroupDirs(fp.cgroupParent).flatMap((d) => [...cgroupPids(d)]));
  const below = new Set([
    ...descendants(procs, ownPids),
    ...[...inCgroups].filter((pid) => !ownPids.has(pid)),
  ]);
  const ownNetns = fp.netns ? nsId(`/run/netns/${fp.netns}`) : undefined;
  const podNetns = new Set<string>();
  for (const pid of below) {
    const id = nsId(`/proc/${pid}/ns/net`);
    if (id && id !== ownNetns) podNetns.add(id);
  }
  const ref = (p: ProcEntry): ProcessRef => ({ pid: p.pid, startTime: p.startTime, name: p.comm });
  const containerdPid = fp.containerd?.pid;
  await terminate(
    procs.filter((p) => below.has(p.pid)).map(ref),
    0, // a pause process is pid 1 of its pid namespace: SIGTERM does nothing; SIGKILL at once
  );
  await terminate(own.filter((p) => p.pid !== containerdPid).map(ref), 2000);
  await terminate(own.filter((p) => p.pid === containerdPid).map(ref), 5000);

  // 2. The sandboxes' network namespaces (containerd removes them on Stop; not after a crash).
  const netnsNames = new Set(netnsNamesFor(podNetns));
  for (const path of fp.sandboxNetns) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (name.startsWith('cni-') && existsSync(join('/run/netns', name))) netnsNames.add(name);
  }
  for (const name of netnsNames) await attempt(`netns ${name}`, () => deleteNetns(name));

  // 3. Mounts under the private dir (overlay rootfs, shm), deepest first.
  for (const target of mountsUnder(readMounts(), fp.dir))
    await attempt(`umount ${target}`, () => unmount(target));

  // 4. Files outside the private dir: shim sockets, libcni cache files of its sandboxes.
  const ids = new Set([...fp.sandboxIds, ...sandboxIdsOnDisk(fp.dir)]);
  for (const sock of shimSockets(fp, ids)) await attempt(`rm ${sock}`, () => rmSync(sock, { force: true }));
  if (ids.size > 0) await attempt('CNI cache', () => removeCniCacheFiles({ containerIds: ids }));

  // 5. cgroups, then the private dir.
  for (const cg of cgroupDirs(fp.cgroupParent)) await attempt(`cgroup ${cg}`, () => removeCgroupTree(cg));
  const l = containerdLayout(fp.dir);
  const paths = opts.keepDir
    ? [l.root, l.state, l.runcRoot, l.opt, l.socket, l.ttrpcSocket, l.config]
    : [fp.dir];
  for (const p of paths) await attempt(`rm -r ${p}`, () => rmSync(p, { recursive: true, force: true }));

  // 6. Shared dirs (/run/containerd/s, /run/containerd, /var/lib/cni/results, /var/lib/cni),
  //    when empty and no other libcni client or containerd runs to need them.
  //    Asked once, after the kills above (the scan of step 1 predates them).
  if (!libcniClientRunning()) {
    rmdirEmptyChain([SHIM_SOCKET_DIR, '/run/containerd']);
    rmdirEmptyChain(CNI_CACHE_DIRS);
  }

  if (problems.length > 0) throw new LabError(`containerd teardown of ${fp.dir}: ${problems.join('; ')}`);
}

/** What of the instance is still on the host; [] when it is gone for good. */
export function containerdLeftovers(fp: ContainerdFootprint): string[] {
  const left: string[] = [];
  const procs = readProcs();
  for (const p of ownProcesses(fp, procs)) left.push(`process ${p.comm}(${p.pid})`);
  const inCgroups = new Set(cgroupDirs(fp.cgroupParent).flatMap((d) => [...cgroupPids(d)]));
  for (const p of procs) if (inCgroups.has(p.pid)) left.push(`pod process ${p.comm}(${p.pid})`);
  for (const m of mountsUnder(readMounts(), fp.dir)) left.push(`mount ${m}`);
  for (const path of fp.sandboxNetns) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (existsSync(join('/run/netns', name))) left.push(`netns ${name}`);
  }
  const ids = new Set([...fp.sandboxIds, ...sandboxIdsOnDisk(fp.dir)]);
  for (const sock of shimSockets(fp, ids)) if (existsSync(sock)) left.push(`shim socket ${sock}`);
  if (ids.size > 0) for (const f of listCniCacheFiles({ containerIds: ids })) left.push(`CNI cache ${f}`);
  for (const cg of cgroupDirs(fp.cgroupParent)) if (existsSync(cg)) left.push(`cgroup ${cg}`);
  if (existsSync(fp.dir)) left.push(`dir ${fp.dir}`);
  return left;
}
