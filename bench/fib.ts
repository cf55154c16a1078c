// FIB benchmark: how fast 10k routes learned over BGP reach a node's kernel, against writing the
// same 10k routes straight into a kernel with one `ip -batch`, in the same run.
//
// two-racks with tabby (test/bgp-lab.ts); an injector gobgpd (lab-helpers Injector) in a
// namespace of its own on a /31 to node1 (198.19.0.0/31), with a BGPPeer node-scoped to node1
// whose allowedPrefixes (10.128.0.0/10) make node1's import policy accept what it sends. Each
// round: the injector originates 10k /24s in 10.128.0.0/10 in one AddPathStream; timed from
// the start of that call until node1's kernel holds all 10k tabby-protocol routes (`tabby_ms`)
// and until node1's gobgpd has accepted all 10k (`bgp_ms`); then the injector withdraws them
// all and the round waits until node1's kernel has none (`withdraw_ms`).
//
// Both ends are watched by monitors inside node1's namespace rather than polled (a dump of 10k
// routes costs 15-40 ms of CPU, the gobgp CLI ~10 ms a start, on a 2-core machine where the
// agent and two gobgpd are busy): `ip monitor route` (the last of the 10k adds) and
// `gobgp monitor global rib` (the last of the 10k best paths). A monitor that fell behind (a
// burst can overflow its netlink buffer) is caught by a slow poll of the real count (every
// POLL_MS), which then ends the interval. A gobgp monitor is a second WatchEvent subscriber
// and costs gobgpd CPU, so rounds alternate: without it (`tabby_ms`, `ratio`) and with it
// (`bgp_ms`, and `kernel_after_bgp_ms`: how long the kernel trailed gobgpd in those rounds).
// The CPU seconds the agent, node1's gobgpd and the injector spend in a round (`cpu_s_*`)
// show where the time goes. Agents run compiled, as the DaemonSet runs them (lab-helpers).
//
// The reference (`raw_ms`): `ip -batch` of the same 10k `route add P via GW proto 201` lines
// into a fresh namespace whose veth has that gateway, spawn to exit, median of ROUNDS.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  addNetns,
  createVethPair,
  deleteNetns,
  ip,
  type StreamingChild,
  spawnStreaming,
} from '../kernel/index.js';
import { TABBY_PROTOCOL } from '../test/bgp-lab.js';
import {
  type Cleanup,
  countRoutes,
  cpuSeconds,
  gobgpdPid,
  gobgpRibCount,
  injectedPrefix,
  ipLines,
  sayer,
  startInjector,
  tabbyLab,
  until,
  withCleanup,
} from './lab-helpers.js';
import { publish } from './results.js';
import { quantile, round } from './stats.js';

const say = sayer('fib');
const ROUTES = Number(process.env.BENCH_FIB_ROUTES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_FIB_ROUNDS ?? 3);
const PREFIX_LEN = 24;
const POLL_MS = 500;
const ROUND_TIMEOUT_MS = 180_000;
const RAW_GW = { local: '198.19.1.0', gateway: '198.19.1.1' };

/** Lines of a monitor, counting distinct injected prefixes present; notes when it reaches a target. */
class PrefixTally {
  readonly present = new Set<string>();
  reachedAt: number | undefined;
  target = Number.POSITIVE_INFINITY;
  /** Counting down (withdrawal): reached when none is left. */
  down = false;
  /** When each tenth of the target was reached (performance.now), for the log. */
  readonly tenths: number[] = [];

  constructor(private readonly parse: (line: string) => { prefix: string; gone: boolean } | undefined) {}

  reset(target: number, down: boolean): void {
    this.target = target;
    this.down = down;
    this.reachedAt = undefined;
    this.tenths.length = 0;
  }

  line(l: string): void {
    const p = this.parse(l);
    if (!p) return;
    if (p.gone) this.present.delete(p.prefix);
    else this.present.add(p.prefix);
    if (this.reachedAt !== undefined) return;
    const done = this.down ? 0 : Math.floor((10 * this.present.size) / this.target);
    while (this.tenths.length < done) this.tenths.push(performance.now());
    if (this.down ? this.present.size === 0 : this.present.size >= this.target)
      this.reachedAt = performance.now();
  }
}

const INJECTED = /^10\.(1[2-8]\d|19[01])\./; // 10.128.0.0/10: second octet 128..191

/** `ip monitor route`: "[Deleted ]10.128.1.0/24 via 198.19.0.1 dev inj0 proto 201". */
function kernelLine(l: string): { prefix: string; gone: boolean } | undefined {
  const gone = l.startsWith('Deleted ');
  const prefix = (gone ? l.slice(8) : l).split(' ', 1)[0] ?? '';
  if (!INJECTED.test(prefix) || !l.includes(` proto ${TABBY_PROTOCOL}`)) return undefined;
  return { prefix, gone };
}

/** `gobgp monitor global rib`: "[ROUTE] 10.128.1.0/24 via …" or "[DELROUTE] 10.128.1.0/24 …". */
function gobgpLine(l: string): { prefix: string; gone: boolean } | undefined {
  const m = /\[(ROUTE|DELROUTE)\]\s+(\S+)/.exec(l);
  if (!m || !INJECTED.test(m[2] ?? '')) return undefined;
  return { prefix: m[2] as string, gone: m[1] === 'DELROUTE' };
}

/** A monitor feeding `tally` (whose prefix set starts empty); stop() ends it. */
function monitor(c: Cleanup, what: string, argv: string[], tally: PrefixTally): { stop(): Promise<void> } {
  let stopped = false;
  tally.present.clear();
  const child: StreamingChild = spawnStreaming(argv, {
    onStdoutLine: (l) => tally.line(l),
    onExit: (e) => {
      if (!stopped) say(`${what} monitor exited (${JSON.stringify(e)})`);
    },
  });
  const stop = async () => {
    stopped = true;
    await child.kill(1000);
  };
  c.add(`stop the ${what} monitor`, stop);
  return { stop };
}

/** Waits until `tally` reached its target or the polled count did; ms since `t0` (performance.now). */
async function endOf(
  t0: number,
  tally: PrefixTally,
  poll: () => Promise<boolean>,
): Promise<{ ms: number; by: 'monitor' | 'poll' }> {
  const deadline = t0 + ROUND_TIMEOUT_MS;
  let nextPoll = performance.now() + POLL_MS;
  for (;;) {
    if (tally.reachedAt !== undefined) return { ms: tally.reachedAt - t0, by: 'monitor' };
    if (performance.now() >= nextPoll) {
      if (await poll()) {
        // The poll saw it first: give a lagging monitor a moment, else the poll's time stands.
        const at = performance.now();
        await sleep(50);
        if (tally.reachedAt !== undefined) return { ms: tally.reachedAt - t0, by: 'monitor' };
        return { ms: at - t0, by: 'poll' };
      }
      nextPoll = performance.now() + POLL_MS;
    }
    if (performance.now() > deadline) throw new Error(`not done within ${ROUND_TIMEOUT_MS} ms`);
    await sleep(2);
  }
}

/** `ip -batch` of the routes into a fresh namespace with a veth whose far end is the gateway. */
async function rawRound(c: Cleanup, base: string, prefixes: string[]): Promise<number> {
  const ns = `${base}-raw`;
  const gw = `${base}-rawgw`;
  c.add(`delete ${ns}`, () => deleteNetns(ns));
  c.add(`delete ${gw}`, () => deleteNetns(gw));
  await addNetns(ns);
  await addNetns(gw);
  await createVethPair({ netns: ns, name: 'eth1' }, { netns: gw, name: 'eth1' });
  await ipLines(ns, [`addr add ${RAW_GW.local}/31 dev eth1`, 'link set eth1 up']);
  await ipLines(gw, [`addr add ${RAW_GW.gateway}/31 dev eth1`, 'link set eth1 up']);
  const input = prefixes
    .map((p) => `route add ${p} via ${RAW_GW.gateway} proto ${TABBY_PROTOCOL}\n`)
    .join('');
  const t = performance.now();
  await ip(ns, ['-batch', '-'], input);
  const ms = performance.now() - t;
  const n = await countRoutes(ns, TABBY_PROTOCOL);
  if (n !== prefixes.length) throw new Error(`raw: ${n} routes, not ${prefixes.length}`);
  await deleteNetns(ns);
  await deleteNetns(gw);
  return ms;
}

async function main(c: Cleanup): Promise<void> {
  const started = Date.now();
  const lab = await tabbyLab(c, {
    bench: 'fib',
    prefix: 'bfib',
    pool: { name: 'bench-fib', cidr: '10.244.0.0/20', blockSize: 26 },
  });
  const node1 = lab.netns('node1');
  const prefixes = Array.from({ length: ROUTES }, (_, i) => injectedPrefix(i, PREFIX_LEN));

  say('reference: ip -batch into a fresh namespace');
  const raw: number[] = [];
  for (let r = 0; r < ROUNDS; r++) raw.push(await rawRound(c, lab.name, prefixes));

  say('injector gobgpd, eBGP to node1');
  const injector = await startInjector(c, lab, 'node1');

  const kernel = new PrefixTally(kernelLine);
  const rib = new PrefixTally(gobgpLine);
  monitor(c, 'kernel', ['ip', '-n', node1, '-rcvbuf', String(64 << 20), 'monitor', 'route'], kernel);
  const pids = {
    agent: lab.cluster.node('node1').agent?.ref.pid as number,
    gobgpd: await gobgpdPid(node1),
    injector: injector.pid as number,
  };
  const gobgp = ['gobgp', '-u', '127.0.0.1', '-p', '50051'];
  const ribArgv = ['ip', 'netns', 'exec', node1, ...gobgp, 'monitor', 'global', 'rib'];
  await sleep(1000);

  // Rounds alternate: without a gobgp monitor (tabby_ms: nothing but a cheap `ip monitor`
  // watches), and with one (bgp_ms: a second WatchEvent subscriber costs gobgpd some CPU).
  const rounds: Round[] = [];
  for (let r = 0; r < 2 * ROUNDS; r++) {
    const withRib = r % 2 === 1;
    const ribMonitor = withRib ? monitor(c, 'gobgp', ribArgv, rib) : undefined;
    if (ribMonitor) await sleep(1000); // subscribed
    kernel.reset(ROUTES, false);
    rib.reset(ROUTES, false);
    const ribBefore = await gobgpRibCount(node1); // the pod blocks
    const cpu0 = cpuOf(pids);
    const t0 = performance.now();
    const injected = injector.inject(prefixes);
    const [k, b] = await Promise.all([
      endOf(t0, kernel, async () => (await countRoutes(node1, TABBY_PROTOCOL)) >= ROUTES),
      withRib
        ? endOf(t0, rib, async () => (await gobgpRibCount(node1)) >= ribBefore + ROUTES)
        : Promise.resolve(undefined),
    ]);
    await injected;
    const cpu1 = cpuOf(pids);
    const tenths = (t: PrefixTally) => t.tenths.map((x) => Math.round(x - t0)).join(' ');
    say(
      `round ${r}: each tenth of the routes in the kernel at [${tenths(kernel)}] ms, in gobgpd at [${tenths(rib)}] ms`,
    );
    const held = await countRoutes(node1, TABBY_PROTOCOL);
    if (held !== ROUTES) throw new Error(`node1 holds ${held} injected routes, not ${ROUTES}`);
    await ribMonitor?.stop();

    kernel.reset(0, true);
    const w0 = performance.now();
    await injector.client.deletePaths(4, prefixes);
    const w = await endOf(w0, kernel, async () => (await countRoutes(node1, TABBY_PROTOCOL)) === 0);
    const cpuS = {
      agent: cpu1.agent - cpu0.agent,
      gobgpd: cpu1.gobgpd - cpu0.gobgpd,
      injector: cpu1.injector - cpu0.injector,
    };
    say(
      `round ${r}: kernel ${k.ms.toFixed(0)} ms (${k.by})` +
        (b ? `, gobgpd ${b.ms.toFixed(0)} ms (${b.by})` : ', no gobgp monitor') +
        `, withdrawn in ${w.ms.toFixed(0)} ms; CPU s: agent ${cpuS.agent.toFixed(2)}, ` +
        `node gobgpd ${cpuS.gobgpd.toFixed(2)}, injector ${cpuS.injector.toFixed(2)}`,
    );
    rounds.push({
      withRib,
      tabby: k.ms,
      bgp: b?.ms,
      withdraw: w.ms,
      by: `${k.by}/${b?.by ?? '-'}/${w.by}`,
      cpuS,
    });
    await until(
      'node1 FIB empty',
      () => countRoutes(node1, TABBY_PROTOCOL),
      (n) => n === 0,
      60_000,
    );
    await sleep(2000);
  }

  const med = (xs: number[]) => quantile(xs, 0.5);
  const plain = rounds.filter((r) => !r.withRib);
  const watched = rounds.filter((r) => r.withRib);
  const tabbyMs = med(plain.map((r) => r.tabby));
  const bgpMs = med(watched.map((r) => r.bgp as number));
  const rawMs = med(raw);
  const cpu = (k: keyof Round['cpuS']) => round(med(plain.map((r) => r.cpuS[k])), 2);
  publish('fib', {
    routes: ROUTES,
    prefix_length: PREFIX_LEN,
    rounds: ROUNDS,
    tabby_ms: round(tabbyMs, 0),
    bgp_ms: round(bgpMs, 0),
    raw_ms: round(rawMs, 1),
    ratio: round(rawMs / tabbyMs, 3),
    target_ratio: 0.5,
    tabby_with_gobgp_monitor_ms: round(med(watched.map((r) => r.tabby)), 0),
    kernel_after_bgp_ms: round(med(watched.map((r) => r.tabby - (r.bgp as number))), 0),
    withdraw_ms: round(med(rounds.map((r) => r.withdraw)), 0),
    cpu_s_agent: cpu('agent'),
    cpu_s_node_gobgpd: cpu('gobgpd'),
    cpu_s_injector_gobgpd: cpu('injector'),
    tabby_rounds_ms: plain.map((r) => round(r.tabby, 0)),
    bgp_rounds_ms: watched.map((r) => round(r.bgp as number, 0)),
    raw_rounds_ms: raw.map((x) => round(x, 1)),
    measured_by: rounds.map((r) => r.by),
    bench_s: Math.round((Date.now() - started) / 1000),
  });
}

interface Round {
  withRib: boolean;
  tabby: number;
  bgp: number | undefined;
  withdraw: number;
  by: string;
  cpuS: { agent: number; gobgpd: number; injector: number };
}

const cpuOf = (pids: { agent: number; gobgpd: number; injector: number }) => ({
  agent: cpuSeconds(pids.agent),
  gobgpd: cpuSeconds(pids.gobgpd),
  injector: cpuSeconds(pids.injector),
});

await withCleanup(main);
