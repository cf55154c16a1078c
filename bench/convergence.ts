// Convergence benchmark: how long after a pod's ADD returns on node1 (rack 1) a pod on node3
// (rack 2) reaches it, when the ADD claimed a block nobody has announced yet. two-racks with
// tabby (test/bgp-lab.ts): node1 → tor1 → spine → tor2 → node3, eBGP at every hop.
//
// Each trial has a pool of its own (10.245.<i>.0/24, blocks of /26), so its ADD claims a fresh
// block: the new /26 must travel node1's agent → its gobgpd → tor1 → spine → tor2 → node3's
// gobgpd → node3's agent → node3's kernel before the first reply can come back. Two kinds of
// trial, interleaved: the pool exists (created `POOL_SETTLE_MS` before the ADD: a new block of a
// known pool, the everyday case), and the pool is created right before the ADD (every node's
// import policy must learn the pool too).
//
// Where the time goes, per trial: monitors in node1 and node3 (`gobgp monitor global rib`, `ip
// monitor route`) note when the block reached node1's gobgpd (tabby exported it), node3's gobgpd
// (it crossed tor1, spine, tor2) and node3's kernel (node3's agent installed it).
// Agents run compiled, as the DaemonSet runs them (lab-helpers).
//
// The probe: one `ping -D -i 0.002 -c 1 -w 10` in the node3 pod, started when ADD returns; it
// stops at the first reply, whose kernel timestamp (-D) ends the interval. ping gives up on the
// first ICMP error, and tor2 answers "net unreachable" until it has the route, so the probe pod
// drops incoming destination-unreachable (nftables, in its own namespace). With no reply ping
// sends at most every 10 ms, the resolution of the figures.
import { setTimeout as sleep } from 'node:timers/promises';
import { cidrsOverlap, parseCidr } from '../common/addr.js';
import { runInNetns, spawnStreaming } from '../kernel/index.js';
import type { BgpLab, LabPod } from '../test/bgp-lab.js';
import { type Cleanup, sayer, tabbyLab, until, withCleanup } from './lab-helpers.js';
import { publish } from './results.js';
import { quantile, round } from './stats.js';

const say = sayer('convergence');
/** Trials of each kind. */
const TRIALS = Number(process.env.BENCH_CONV_TRIALS ?? 20);
const POOL_SETTLE_MS = Number(process.env.BENCH_CONV_POOL_SETTLE_MS ?? 3000);
const PROBE_TIMEOUT_S = 10;
const MAIN_POOL = { name: 'bench-conv-main', cidr: '10.244.0.0/20', blockSize: 26 };

/** Wall-clock now in ms, sub-millisecond (ping -D prints wall-clock seconds). */
const wallMs = (): number => performance.timeOrigin + performance.now();

/** ping gives up at the first ICMP error: the probe pod drops destination-unreachable. */
async function dropUnreachables(netns: string): Promise<void> {
  const rules = [
    'table inet bench {',
    '  chain input {',
    '    type filter hook input priority 0;',
    '    icmp type destination-unreachable drop',
    '  }',
    '}',
  ].join('\n');
  await runInNetns(netns, ['nft', '-f', '-'], { input: `${rules}\n` });
}

/** ms from `sinceWallMs` to the first echo reply from `address` (undefined: none in time). */
async function firstReply(from: string, address: string, sinceWallMs: number): Promise<number | undefined> {
  try {
    const { stdout } = await runInNetns(
      from,
      ['ping', '-D', '-n', '-i', '0.002', '-c', '1', '-w', String(PROBE_TIMEOUT_S), address],
      { timeoutMs: (PROBE_TIMEOUT_S + 5) * 1000 },
    );
    const m = /^\[(\d+\.\d+)\] \d+ bytes from/m.exec(stdout);
    return m ? Number(m[1]) * 1000 - sinceWallMs : undefined;
  } catch {
    return undefined; // no reply before the deadline (exit status 1)
  }
}

/** Removes a trial pool's blocks and affinities, then the pool (the pod is gone already). */
async function dropPool(lab: BgpLab, name: string, cidr: string): Promise<void> {
  const pool = parseCidr(cidr);
  const inside = (c: string) => cidrsOverlap(parseCidr(c), pool);
  const { items: affinities } = await lab.ds.blockAffinities.list();
  for (const a of affinities.filter((x) => inside(x.spec.cidr)))
    await lab.ds.blockAffinities.delete(a.metadata.name).catch(() => {});
  const { items: blocks } = await lab.ds.ipamBlocks.list();
  for (const b of blocks.filter((x) => inside(x.spec.cidr)))
    await lab.ds.ipamBlocks.delete(b.metadata.name).catch(() => {});
  await lab.ds.ipPools.delete(name).catch(() => {});
}

/**
 * When each trial block (10.245.X.Y/26) first showed up on the way, by the bench's clock: node1's
 * gobgpd RIB (tabby exported it), node3's gobgpd RIB (it crossed the fabric), node3's kernel
 * (node3's agent installed it). Monitors in the namespaces; a line counts when it arrives.
 */
class Waypoints {
  readonly seen = {
    node1Rib: new Map<string, number>(),
    node3Rib: new Map<string, number>(),
    node3Fib: new Map<string, number>(),
  };

  start(c: Cleanup, lab: BgpLab): void {
    const gobgp = ['gobgp', '-u', '127.0.0.1', '-p', '50051', 'monitor', 'global', 'rib'];
    const watch = (what: keyof Waypoints['seen'], argv: string[], added: (l: string) => boolean) => {
      let stopped = false;
      const child = spawnStreaming(argv, {
        onStdoutLine: (l) => {
          const prefix = TRIAL_BLOCK.exec(l)?.[0];
          if (prefix && added(l) && !this.seen[what].has(prefix)) this.seen[what].set(prefix, wallMs());
        },
        onExit: (e) => {
          if (!stopped) say(`${what} monitor exited (${JSON.stringify(e)})`);
        },
      });
      c.add(`stop the ${what} monitor`, async () => {
        stopped = true;
        await child.kill(1000);
      });
    };
    watch('node1Rib', ['ip', 'netns', 'exec', lab.netns('node1'), ...gobgp], (l) => l.includes('[ROUTE]'));
    watch('node3Rib', ['ip', 'netns', 'exec', lab.netns('node3'), ...gobgp], (l) => l.includes('[ROUTE]'));
    watch('node3Fib', ['ip', '-n', lab.netns('node3'), 'monitor', 'route'], (l) => !l.startsWith('Deleted'));
  }

  /** ms from `since` to each waypoint of `block` (undefined: not seen). */
  of(block: string, since: number): Record<keyof Waypoints['seen'], number | undefined> {
    const at = (m: Map<string, number>) => {
      const t = m.get(block);
      return t === undefined ? undefined : t - since;
    };
    return {
      node1Rib: at(this.seen.node1Rib),
      node3Rib: at(this.seen.node3Rib),
      node3Fib: at(this.seen.node3Fib),
    };
  }
}

const TRIAL_BLOCK = /\b10\.245\.\d+\.\d+\/26\b/;

/** The /26 block holding an IPv4 address. */
const blockOf = (ip: string): string => {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return `${a}.${b}.${c}.${d & 0xc0}/26`;
};

interface Trial {
  kind: 'settled' | 'new-pool';
  ms: number | undefined;
  addMs: number;
  /** ms after ADD returned: node1's gobgpd had the block, node3's gobgpd, node3's kernel. */
  way: Record<keyof Waypoints['seen'], number | undefined>;
}

async function trial(
  lab: BgpLab,
  watcher: LabPod,
  way: Waypoints,
  i: number,
  kind: Trial['kind'],
): Promise<Trial> {
  const name = `bench-conv-${i}`;
  const cidr = `10.245.${i}.0/24`;
  await lab.ds.ipPools.create({ metadata: { name }, spec: { cidr, blockSize: 26 } });
  if (kind === 'settled') await sleep(POOL_SETTLE_MS);
  const t = performance.now();
  const pod = await lab.addPod('node1', `c${i}`, name);
  const addReturned = wallMs();
  const addMs = performance.now() - t;
  const ms = await firstReply(watcher.netns, pod.ip, addReturned);
  await sleep(50); // monitor lines still in a pipe
  const waypoints = way.of(blockOf(pod.ip), addReturned);
  await lab.delPod(pod);
  await dropPool(lab, name, cidr);
  return { kind, ms, addMs, way: waypoints };
}

async function main(c: Cleanup): Promise<void> {
  const started = Date.now();
  const lab = await tabbyLab(c, { bench: 'convergence', prefix: 'bcv', pool: MAIN_POOL });
  const watcher = await lab.addPod('node3', 'watch');
  await dropUnreachables(watcher.netns);
  // The path works before timing anything: a node1 pod of the main pool answers the probe pod.
  const anchor = await lab.addPod('node1', 'anchor');
  await until(
    'node3 pod reaches a node1 pod',
    () => firstReply(watcher.netns, anchor.ip, wallMs()),
    (ms) => ms !== undefined,
    60_000,
  );

  const way = new Waypoints();
  way.start(c, lab);
  await sleep(1000); // the monitors are subscribed

  say(`${TRIALS} trials each, interleaved: pool settled ${POOL_SETTLE_MS} ms before the ADD / pool new`);
  const trials: Trial[] = [];
  const f = (x: number | undefined) => (x === undefined ? '?' : x.toFixed(0));
  for (let i = 0; i < 2 * TRIALS; i++) {
    const t = await trial(lab, watcher, way, i, i % 2 === 0 ? 'settled' : 'new-pool');
    say(
      `trial ${i} (${t.kind}): ${t.ms === undefined ? 'NO REPLY' : `${t.ms.toFixed(1)} ms`} ` +
        `(ADD ${t.addMs.toFixed(0)} ms; after it: node1 gobgpd ${f(t.way.node1Rib)}, ` +
        `node3 gobgpd ${f(t.way.node3Rib)}, node3 kernel ${f(t.way.node3Fib)} ms)`,
    );
    trials.push(t);
  }

  const of = (kind: Trial['kind']) => trials.filter((t) => t.kind === kind);
  const ms = (ts: Trial[]) => ts.flatMap((t) => (t.ms === undefined ? [] : [t.ms]));
  const settled = ms(of('settled'));
  const fresh = ms(of('new-pool'));
  const q = (xs: number[], p: number) => round(quantile(xs, p), 1);
  publish('convergence', {
    trials: settled.length,
    p50_ms: q(settled, 0.5),
    p95_ms: q(settled, 0.95),
    max_ms: q(settled, 1),
    min_ms: q(settled, 0),
    no_reply: of('settled').length - settled.length,
    target_p95_ms: 1000,
    new_pool_trials: fresh.length,
    new_pool_p50_ms: q(fresh, 0.5),
    new_pool_p95_ms: q(fresh, 0.95),
    new_pool_max_ms: q(fresh, 1),
    new_pool_no_reply: of('new-pool').length - fresh.length,
    add_p50_ms: q(
      trials.map((t) => t.addMs),
      0.5,
    ),
    node1_gobgpd_p50_ms: q(waypoint(trials, 'node1Rib'), 0.5),
    node3_gobgpd_p50_ms: q(waypoint(trials, 'node3Rib'), 0.5),
    node3_kernel_p50_ms: q(waypoint(trials, 'node3Fib'), 0.5),
    pool_settle_ms: POOL_SETTLE_MS,
    probe_resolution_ms: 10,
    bench_s: Math.round((Date.now() - started) / 1000),
  });
}

/** One waypoint's times over every trial that saw it. */
const waypoint = (trials: Trial[], k: keyof Trial['way']): number[] =>
  trials.flatMap((t) => (t.way[k] === undefined ? [] : [t.way[k] as number]));

await withCleanup(main);
