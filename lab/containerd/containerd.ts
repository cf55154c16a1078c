// A private containerd (Debian's 1.6, CRI on) inside a network namespace the caller owns, so the
// CNI plugins it runs and the host ends of pod veths never touch the root namespace; pod
// namespaces are /var/run/netns/cni-<uuid>. The recipe and its blockers: shared/notes/cni.md §4.
//
//   const ctrd = await startContainerd({ netns, dir, cniBinDir, cniConfDir });
//   const id = await ctrd.cri.runPodSandbox({ name: 'p1', namespace: 'default', uid: 'u1' });
//   (await ctrd.cri.podSandboxStatus(id)).ip
//   await ctrd.stop(); // sandboxes, processes, mounts, netns, cgroups, caches, dir: all gone
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ip, isRunning, netnsExists, refFor, run, spawnDaemon } from '../../kernel/index.js';
import { LabError } from '../errors.js';
import {
  type ContainerdFootprint,
  containerdLeftovers,
  newFootprint,
  teardownContainerd,
} from './cleanup.js';
import { containerdLayout, renderContainerdConfig } from './config.js';
import { type CriClient, criClient, type RunPodSandboxOptions } from './cri-client.js';
import { ensurePauseImage } from './pause-image.js';

/** containerd's environment: nothing of ours (no NODE_EXTRA_CA_CERTS, no NODE_OPTIONS). */
export const CONTAINERD_ENV: Readonly<NodeJS.ProcessEnv> = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
};

export interface ContainerdOptions {
  /** An existing network namespace the caller owns (and deletes); containerd runs in it. */
  netns: string;
  /**
   * Private directory, removed by stop(): root, state, sockets, runc root, config, log. The CNI
   * bin and conf dirs may live inside it (created by the caller before start).
   */
  dir: string;
  /** CNI plugin dir (one only; `loopback` must be in it: CRI runs it for every sandbox). */
  cniBinDir: string;
  /** CNI config dir; containerd loads the first config (max_conf_num 1). */
  cniConfDir: string;
  /** Wait for the CRI NetworkReady condition too (a config must be in cniConfDir). Default true. */
  waitNetworkReady?: boolean;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
}

export interface Containerd {
  netns: string;
  dir: string;
  /** containerd's gRPC socket (CRI, and `ctr -a`). */
  socket: string;
  pid: number;
  /** The sandbox image CRI uses (imported at start). */
  pauseImage: string;
  /** Sandboxes go under this cgroup parent by default, so stop() can remove their cgroups. */
  cgroupParent: string;
  /** containerd's log (inside dir: gone after stop()). */
  logFile: string;
  /** CRI client; runPodSandbox records the IDs for stop() and leftovers(). */
  cri: CriClient;
  /** Removes every sandbox over CRI, then kills and removes everything. Idempotent. */
  stop(): Promise<void>;
  /** The pod's network namespace name (cni-<uuid>, in /run/netns), e.g. for `ip -n`. */
  podNetns(sandboxId: string): Promise<string>;
  /** What is still on the host; [] after a clean stop(). */
  leftovers(): string[];
}

const MAX_SOCKET_PATH = 100; // sun_path is 108 bytes; ".ttrpc" is appended to the socket

/** Pure: the cgroup parent of an instance, derived from its dir (stable across a crash). */
export const cgroupParentFor = (dir: string): string =>
  `/tabby-ctrd-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`;

/** The log's errors (or, without any, its last lines), for an error message. */
function logExcerpt(file: string, lines = 8): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    const errors = all.filter((l) => /level=(error|fatal)/.test(l));
    return (errors.length > 0 ? errors : all).slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Removes what a previous instance in the same dir (a crashed run) left; the caller's files stay. */
async function clearStale(fp: ContainerdFootprint): Promise<void> {
  const l = containerdLayout(fp.dir);
  if (existsSync(l.config) || existsSync(l.state)) await teardownContainerd(fp, { keepDir: true });
}

/**
 * Starts a private containerd in `netns`. On any failure everything it started is removed; the
 * dir stays (with the caller's files and containerd.log) for the caller to read and remove.
 */
export async function startContainerd(opts: ContainerdOptions): Promise<Containerd> {
  const { netns, dir } = opts;
  if (!isAbsolute(dir)) throw new LabError(`containerd dir must be absolute: ${dir}`);
  const layout = containerdLayout(dir);
  if (Buffer.byteLength(layout.ttrpcSocket) > MAX_SOCKET_PATH)
    throw new LabError(`containerd dir ${dir} is too long for a unix socket path; use a shorter one`);
  if (!(await netnsExists(netns))) throw new LabError(`network namespace ${netns} does not exist`);
  for (const [what, d] of [
    ['cniBinDir', opts.cniBinDir],
    ['cniConfDir', opts.cniConfDir],
  ] as const) {
    if (!existsSync(d)) throw new LabError(`containerd ${what} ${d} does not exist`);
  }

  const fp = newFootprint(dir, cgroupParentFor(dir), netns);
  await clearStale(fp);
  const pause = ensurePauseImage();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(
    layout.config,
    renderContainerdConfig({
      dir,
      sandboxImage: pause.image,
      cniBinDir: opts.cniBinDir,
      cniConfDir: opts.cniConfDir,
      logLevel: opts.logLevel,
    }),
  );
  // CRI's streaming server binds 127.0.0.1:0: without lo up, containerd exits at start.
  await ip(netns, ['link', 'set', 'dev', 'lo', 'up']);

  let cri: CriClient | undefined;
  try {
    const pid = await spawnDaemon(
      ['nsenter', `--net=/run/netns/${netns}`, 'containerd', '--config', layout.config],
      {
        logFile: layout.log,
        env: { ...CONTAINERD_ENV },
        cwd: dir,
      },
    );
    fp.containerd = refFor(pid, 'containerd');
    cri = criClient({ socket: layout.socket, timeoutMs: 5000 });
    await waitReady(fp, cri, layout.log, opts.waitNetworkReady ?? true, opts.startTimeoutMs ?? 30_000);
    await run(['ctr', '-a', layout.socket, '-n', 'k8s.io', 'images', 'import', pause.tarball], {
      env: { ...CONTAINERD_ENV },
      timeoutMs: 60_000,
    });
    await waitFor(() => (cri as CriClient).imageExists(pause.image), 10_000, `CRI sees ${pause.image}`);
    return handle(fp, cri, pause.image, opts.netns);
  } catch (e) {
    cri?.close();
    // containerd's processes, mounts and files go; the dir stays with the caller's files and the log.
    await teardownContainerd(fp, { keepDir: true }).catch(() => {});
    if (e instanceof LabError)
      throw new LabError(`${e.message}\n--- ${layout.log} (excerpt) ---\n${logExcerpt(layout.log)}`);
    throw e;
  }
}

async function waitFor(ok: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok().catch(() => false)) return;
    await sleep(100);
  }
  throw new LabError(`containerd: timed out waiting for: ${what}`);
}

async function waitReady(
  fp: ContainerdFootprint,
  cri: CriClient,
  log: string,
  network: boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no socket yet';
  while (Date.now() < deadline) {
    if (fp.containerd && !isRunning(fp.containerd))
      throw new LabError(`containerd exited at start; see ${log}`);
    if (existsSync(containerdLayout(fp.dir).socket)) {
      try {
        const conds = await cri.status();
        const want = network ? ['RuntimeReady', 'NetworkReady'] : ['RuntimeReady'];
        const notReady = want.filter((t) => !conds.some((c) => c.type === t && c.status));
        if (notReady.length === 0) return;
        last = conds.map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`).join(', ');
      } catch (e) {
        last = (e as Error).message;
      }
    }
    await sleep(100);
  }
  throw new LabError(`containerd not ready after ${timeoutMs / 1000} s: ${last}`);
}

function handle(fp: ContainerdFootprint, cri: CriClient, pauseImage: string, netns: string): Containerd {
  const layout = containerdLayout(fp.dir);
  const recording: CriClient = {
    ...cri,
    async runPodSandbox(o: RunPodSandboxOptions) {
      const id = await cri.runPodSandbox({ ...o, cgroupParent: o.cgroupParent ?? fp.cgroupParent });
      fp.sandboxIds.add(id);
      return id;
    },
  };
  let stopped: Promise<void> | undefined;
  return {
    netns,
    dir: fp.dir,
    socket: layout.socket,
    pid: fp.containerd?.pid ?? 0,
    pauseImage,
    cgroupParent: fp.cgroupParent,
    logFile: layout.log,
    cri: recording,
    stop() {
      stopped ??= stopAll(fp, cri);
      return stopped;
    },
    async podNetns(id) {
      const path = sandboxNetnsPath(await cri.podSandboxStatus(id, { verbose: true }));
      if (!path) throw new LabError(`sandbox ${id}: containerd reports no network namespace`);
      fp.sandboxNetns.add(path);
      return basename(path);
    },
    leftovers: () => containerdLeftovers(fp),
  };
}

/** The kubelet's way first (Stop, Remove every sandbox), then teardown of whatever is left. */
async function stopAll(fp: ContainerdFootprint, cri: CriClient): Promise<void> {
  const errors: string[] = [];
  if (fp.containerd && isRunning(fp.containerd)) {
    try {
      for (const s of await cri.listPodSandbox()) {
        fp.sandboxIds.add(s.id);
        try {
          const netnsPath = sandboxNetnsPath(await cri.podSandboxStatus(s.id, { verbose: true }));
          if (netnsPath) fp.sandboxNetns.add(netnsPath);
          await cri.stopPodSandbox(s.id);
          await cri.removePodSandbox(s.id);
        } catch (e) {
          errors.push(`sandbox ${s.id.slice(0, 12)}: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      errors.push(`ListPodSandbox: ${(e as Error).message}`);
    }
  }
  cri.close();
  await teardownContainerd(fp);
  // Everything is gone by now, but a failed Stop/Remove (say, a CNI DEL error) is a finding.
  if (errors.length > 0)
    throw new LabError(`containerd stop (everything was removed anyway): ${errors.join('; ')}`);
}

/** The pod's netns path from a verbose PodSandboxStatus (containerd's info.runtimeSpec). */
function sandboxNetnsPath(status: { info: Record<string, string> }): string | undefined {
  const raw = status.info.info;
  if (!raw) return undefined;
  try {
    const info = JSON.parse(raw) as {
      runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
    };
    return info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  } catch {
    return undefined;
  }
}
