// What the lab benchmarks (convergence, fib, throughput, memory) share: a control plane of the
// bench's own with tabby up on a lab topology (test/bgp-lab.ts), cleanup that runs on every exit
// path (Ctrl-C and SIGTERM included), an injector gobgpd that feeds a node routes over eBGP, and
// readers of /proc for memory and CPU.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GobgpClient } from '../bgp/gobgp-client.js';
import { GobgpdSupervisor } from '../bgp/gobgpd-process.js';
import { repoPath } from '../common/paths.js';
import type { BGPPeerSpec } from '../datastore/index.js';
import { silentLogger } from '../felix/log.js';
import { addNetns, createVethPair, deleteNetns, ExecError, ip, run, runInNetns } from '../kernel/index.js';
import { controlPlaneDown, controlPlaneUp } from '../lab/control-plane/index.js';
import { listStates } from '../lab/state.js';
import { waitForBgp } from '../lab/status.js';
import { labDown } from '../lab/teardown.js';
import { BgpLab, gobgpdPidIn } from '../test/bgp-lab.js';

export const sayer =
  (bench: string) =>
  (m: string): void => {
    process.stderr.write(`bench ${bench}: ${m}\n`);
  };

/** Undo steps, run last-in first-out: at the end, or on SIGINT / SIGTERM / an uncaught error. */
export class Cleanup {
  readonly #steps: { what: string; fn: () => Promise<unknown> }[] = [];
  #running: Promise<void> | undefined;

  add(what: string, fn: () => Promise<unknown>): void {
    this.#steps.push({ what, fn });
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      for (let s = this.#steps.pop(); s; s = this.#steps.pop()) {
        try {
          await s.fn();
        } catch (e) {
          process.stderr.write(`cleanup: ${s.what} failed: ${(e as Error).message}\n`);
        }
      }
      this.#running = undefined;
    })();
    return this.#running;
  }
}

/**
 * Runs `fn` with a Cleanup that runs after it, also when the process is interrupted (SIGINT,
 * SIGTERM) or something throws outside `fn`'s promise chain.
 */
export async function withCleanup<T>(fn: (c: Cleanup) => Promise<T>): Promise<T> {
  const c = new Cleanup();
  const bail = (why: string, code: number) => {
    process.stderr.write(`${why}: cleaning up\n`);
    void c.run().finally(() => process.exit(code));
  };
  const onSignal = (sig: NodeJS.Signals) => bail(sig, 130);
  const onError = (e: unknown) => bail(`uncaught ${(e as Error)?.stack ?? String(e)}`, 1);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  try {
    return await fn(c);
  } finally {
    await c.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  }
}

export interface TabbyLabOptions {
  bench: string;
  /** Lab and object name prefix (≤ 4 chars). */
  prefix: string;
  pool: { name: string; cidr: string; blockSize?: number };
  peerSpec?: Partial<BGPPeerSpec>;
  topology?: string;
  /** More agent flags (after the harness's `--resync-interval 10`: a later flag wins). */
  agentArgs?: string[];
  /**
   * Agents as the DaemonSet runs them: dist/ is built first and every agent is
   * `node dist/felix/main.js` (lab/agent-process.ts, TABBY_LAB_AGENT=dist). Default true;
   * false: felix/main.ts under tsx, as the tests run them.
   */
  compiled?: boolean;
}

/** A control plane of the bench's own and tabby on a lab (default two-racks), all sessions up. */
export async function tabbyLab(c: Cleanup, o: TabbyLabOptions): Promise<BgpLab> {
  const say = sayer(o.bench);
  if (o.compiled ?? true) {
    await buildDist(say);
    process.env.TABBY_LAB_AGENT = 'dist';
  } else delete process.env.TABBY_LAB_AGENT;
  const name = `bench-${o.bench}-${process.pid}`;
  say('starting a local control plane');
  c.add('control plane down', () => controlPlaneDown(name));
  const cp = await controlPlaneUp({ name });
  say(`bringing tabby up on ${o.topology ?? 'two-racks'}`);
  let lab: BgpLab | undefined;
  // Interrupted while BgpLab.up runs (it cleans up after its own failures, not after a signal):
  // the labs this process was bringing up are found by their state files.
  c.add('lab down (interrupted start)', async () => {
    if (lab) return;
    for (const s of listStates())
      if (s.name.startsWith(`${o.prefix}-`) && s.owner.pid === process.pid) await labDown(s.name);
  });
  lab = await BgpLab.up({
    topology: o.topology ?? 'two-racks',
    prefix: o.prefix,
    pool: o.pool,
    peerSpec: o.peerSpec,
    agentArgs: o.agentArgs && (() => o.agentArgs ?? []),
    kubeconfig: cp.kubeconfig,
    apiSocket: cp.apiSocket,
  });
  const up = lab;
  c.add('lab down', () => up.down());
  const keep = process.env.BENCH_LOG_DIR;
  if (keep) {
    // Diagnosis: the agents' logs (TABBY_LOG_LEVEL=debug for more) outlive the lab.
    c.add('save agent logs', async () => {
      mkdirSync(keep, { recursive: true });
      for (const n of up.cluster.nodes)
        if (existsSync(n.logFile)) copyFileSync(n.logFile, join(keep, `${o.bench}-${n.labNode}.log`));
    });
  }
  await waitForBgp(up.name, 60_000, { servers: true });
  return up;
}

/**
 * `npm run build`'s tsc into dist/ (a few seconds). tsc writes the JS even when type checking
 * fails (someone's change in progress elsewhere in the tree): that is reported, and the bench
 * goes on with it.
 */
export async function buildDist(say: (m: string) => void): Promise<void> {
  say('building dist/ (tsc -p tsconfig.build.json)');
  const tsc = [process.execPath, repoPath('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'];
  try {
    await run(tsc, { cwd: repoPath('.'), timeoutMs: 300_000 });
  } catch (e) {
    if (!(e instanceof ExecError) || !existsSync(repoPath('dist/felix/main.js'))) throw e;
    say(`tsc reported type errors (the JS was written anyway):\n${e.stdout.trim().slice(0, 2000)}`);
  }
}

/** Polls `fn` until `ok` (a throw counts as not yet); throws with `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (ok(v)) return v;
      last = JSON.stringify(v);
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})`);
    await sleep(everyMs);
  }
}

/** `ip -batch` lines in a namespace (one process); the bench's own wiring, never the root namespace. */
export async function ipLines(netns: string, lines: readonly string[]): Promise<void> {
  if (lines.length > 0) await ip(netns, ['-batch', '-'], `${lines.join('\n')}\n`);
}

// ---- routes ----

/** The `index`-th prefix of length `len` inside 10.128.0.0/10 (the injected range). */
export function injectedPrefix(index: number, len: 24 | 32): string {
  const base = (10 << 24) | (128 << 16);
  const addr = (base + index * 2 ** (32 - len)) >>> 0;
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
}

export const INJECTED_RANGE = '10.128.0.0/10';

/** How many routes of `protocol` inside `root` a namespace's main table holds (one `ip` run). */
export async function countRoutes(netns: string, protocol: number, root = INJECTED_RANGE): Promise<number> {
  const { stdout } = await runInNetns(
    netns,
    ['ip', '-4', 'route', 'show', 'table', 'main', 'proto', String(protocol), 'root', root],
    { timeoutMs: 30_000 },
  );
  let n = 0;
  for (let i = stdout.indexOf('\n'); i >= 0; i = stdout.indexOf('\n', i + 1)) n++;
  return n;
}

/** Best paths in a lab server's gobgpd (its API is 127.0.0.1:50051 inside the namespace). */
export async function gobgpRibCount(netns: string): Promise<number> {
  const { stdout } = await runInNetns(
    netns,
    ['gobgp', '-u', '127.0.0.1', '-p', '50051', 'global', 'rib', 'summary', '-a', 'ipv4'],
    { timeoutMs: 30_000 },
  );
  // "Table ipv4-unicast\nDestination: 10012, Path: 10012"
  const m = /Destination:\s*(\d+)/.exec(stdout);
  if (!m) throw new Error(`gobgp rib summary: unexpected output: ${stdout}`);
  return Number(m[1]);
}

// ---- the injector: a gobgpd of the bench's own, eBGP to a lab server ----

export interface InjectorOptions {
  /** Its namespace's name. */
  netns: string;
  /** The server's namespace, and the link between them (a /31: server .0, injector .1). */
  nodeNetns: string;
  nodeAddress: string;
  address: string;
  nodeAsn: number;
  asn: number;
}

/**
 * A gobgpd in a namespace of its own, on a veth to a server, speaking eBGP to it: the server's
 * BGPPeer (the caller's) names `address`. Its API is a unix socket in a temp dir.
 */
export class Injector {
  readonly client: GobgpClient;

  private constructor(
    readonly o: InjectorOptions,
    private readonly supervisor: GobgpdSupervisor,
  ) {
    this.client = new GobgpClient({ target: supervisor.apiAddress, streamTimeoutMs: 120_000 });
  }

  /** Starts it; `c` gets the undo steps first, so a failure half-way leaves nothing. */
  static async start(c: Cleanup, o: InjectorOptions): Promise<Injector> {
    c.add(`delete netns ${o.netns}`, () => deleteNetns(o.netns));
    await addNetns(o.netns);
    await createVethPair({ netns: o.netns, name: 'eth1' }, { netns: o.nodeNetns, name: 'inj0' });
    await ipLines(o.netns, [`addr add ${o.address}/31 dev eth1`, 'link set eth1 up']);
    await ipLines(o.nodeNetns, [`addr add ${o.nodeAddress}/31 dev inj0`, 'link set inj0 up']);
    const dir = mkdtempSync(join(tmpdir(), 'bench-injector-'));
    c.add(`remove ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
    const supervisor = new GobgpdSupervisor({
      mode: 'spawn',
      netns: o.netns,
      apiAddress: `unix://${dir}/api.sock`,
      log: silentLogger(),
    });
    c.add('stop the injector gobgpd', () => supervisor.stop());
    await supervisor.start();
    const inj = new Injector(o, supervisor);
    c.add('close the injector client', async () => inj.client.close());
    await inj.client.startBgp({
      asn: o.asn,
      routerId: o.address,
      listenPort: 179,
      listenAddresses: [o.address],
    });
    await inj.client.addPeer({
      address: o.nodeAddress,
      asn: o.nodeAsn,
      description: 'bench injector',
      holdTime: 90,
      keepaliveInterval: 30,
      connectRetry: 1,
      families: [4],
    });
    return inj;
  }

  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** Until the session to the server is Established. */
  async established(timeoutMs = 60_000): Promise<void> {
    await until(
      'injector session',
      () => this.client.listPeers(),
      (ps) => ps.some((p) => p.state === 'established'),
      timeoutMs,
      200,
    );
  }

  /** Originates `prefixes` (one AddPathStream); next hop: its own address. */
  inject(prefixes: string[]): Promise<void> {
    return this.client.addPaths(
      4,
      prefixes.map((prefix) => ({ prefix, nextHop: this.o.address })),
    );
  }
}

/** The injector's link to its server (a /31 of the underlay range) and its AS. */
export const INJECTOR = { nodeAddress: '198.19.0.0', address: '198.19.0.1', asn: 65100 };

/**
 * An injector on `labNode`, its session Established: a BGPPeer node-scoped to that server whose
 * allowedPrefixes (10.128.0.0/10) make the server's import policy accept what it sends.
 */
export async function startInjector(c: Cleanup, lab: BgpLab, labNode: string): Promise<Injector> {
  const peerName = `${lab.name}-${labNode}-injector`;
  c.add('delete the injector BGPPeer', () => lab.ds.bgpPeers.delete(peerName).catch(() => {}));
  await lab.ds.bgpPeers.create({
    metadata: { name: peerName },
    spec: {
      node: lab.nodeName(labNode),
      peerIP: INJECTOR.address,
      asNumber: INJECTOR.asn,
      allowedPrefixes: [INJECTED_RANGE],
    },
  });
  const nodeAsn = lab.topology.nodes.find((n) => n.name === labNode)?.asn;
  if (nodeAsn === undefined) throw new Error(`${labNode} has no AS in ${lab.name}`);
  const injector = await Injector.start(c, {
    netns: `${lab.name}-inj`,
    nodeNetns: lab.netns(labNode),
    nodeAsn,
    ...INJECTOR,
  });
  await injector.established();
  return injector;
}

// ---- /proc ----

/** VmRSS of a process in MiB; undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s, USER_HZ on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The gobgpd of a lab server (the agent's child in its namespace). */
export async function gobgpdPid(netns: string): Promise<number> {
  const pid = await gobgpdPidIn(netns);
  if (pid === undefined) throw new Error(`no gobgpd in ${netns}`);
  return pid;
}
