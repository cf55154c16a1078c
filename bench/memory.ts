// Memory and idle-CPU benchmark: one agent (node1 of two-racks) with 100 pods (ADDs through the
// real plugin) and 10k routes learned over BGP (an injector gobgpd, as in the fib benchmark).
// Once settled: the agent's VmRSS, its gobgpd's VmRSS, and the agent's CPU (utime + stime
// from /proc/PID/stat) over IDLE_S seconds of nothing happening.
//
// The agent runs the production way, as the DaemonSet runs it: `node dist/felix/main.js`
// (lab-helpers builds dist/ first with `npm run build`'s tsc; lab/agent-process.ts runs it when
// TABBY_LAB_AGENT=dist). Three phases on the same node with the same state:
//   live       the compiled agent started before the pods and routes came (learned one by one)
//   restarted  the compiled agent restarted on node1 with the 100 pods and 10k routes in place
//              (it adopts the pods; its new gobgpd learns the 10k again and the watch delivers
//              them in one init dump), as after every DaemonSet rollout
//   tsx        the same restart as the lab usually runs agents (felix/main.ts under tsx)
// The headline keys take the worse of live and restarted.
//
// Agents run with the production resync interval (--resync-interval 60, not the lab's 10): the
// full route resync and the affine-block refresh come once a minute, so the idle window is a
// whole minute (IDLE_S), reported as two 30-s halves too. (The BGP reconciler's periodic pass and
// the learner's check against gobgpd's best paths have periods of their own.)
import { setTimeout as sleep } from 'node:timers/promises';
import type { BgpLab } from '../test/bgp-lab.js';
import { TABBY_PROTOCOL } from '../test/bgp-lab.js';
import {
  type Cleanup,
  countRoutes,
  cpuSeconds,
  gobgpdPid,
  gobgpRibCount,
  injectedPrefix,
  rssMb,
  sayer,
  startInjector,
  tabbyLab,
  until,
  withCleanup,
} from './lab-helpers.js';
import { publish } from './results.js';
import { quantile, round } from './stats.js';

const say = sayer('memory');
const PODS = Number(process.env.BENCH_MEM_PODS ?? 100);
const ROUTES = Number(process.env.BENCH_MEM_ROUTES ?? 10_000);
const SETTLE_S = Number(process.env.BENCH_MEM_SETTLE_S ?? 20);
const IDLE_S = Number(process.env.BENCH_MEM_IDLE_S ?? 60);
const RESYNC_S = 60;
const ADD_CONCURRENCY = 4;

interface Sample {
  runtime: string;
  agentRssMb: number;
  agentRssMaxMb: number;
  gobgpdRssMb: number;
  idleCpuPct: number;
  halvesPct: number[];
  gobgpdIdleCpuPct: number;
}

/** Waits SETTLE_S, then samples RSS every second and CPU over IDLE_S. */
async function sample(lab: BgpLab, runtime: string): Promise<Sample> {
  await sleep(SETTLE_S * 1000);
  const agent = lab.cluster.node('node1').agent?.ref.pid;
  if (!agent) throw new Error('node1 has no agent');
  const gobgpd = await gobgpdPid(lab.netns('node1'));
  const rss: number[] = [];
  const gobgpdRss: number[] = [];
  const cpu = [cpuSeconds(agent)];
  const gobgpdCpu0 = cpuSeconds(gobgpd);
  const t0 = performance.now();
  const marks = [t0];
  for (let s = 1; s <= IDLE_S; s++) {
    await sleep(t0 + s * 1000 - performance.now());
    rss.push(rssMb(agent) ?? Number.NaN);
    gobgpdRss.push(rssMb(gobgpd) ?? Number.NaN);
    if (s === Math.floor(IDLE_S / 2) || s === IDLE_S) {
      cpu.push(cpuSeconds(agent));
      marks.push(performance.now());
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const pct = (cpuS: number, wallS: number) => (100 * cpuS) / wallS;
  const halvesPct = [1, 2].map((i) =>
    pct(
      (cpu[i] as number) - (cpu[i - 1] as number),
      ((marks[i] as number) - (marks[i - 1] as number)) / 1000,
    ),
  );
  return {
    runtime,
    agentRssMb: quantile(rss, 0.5),
    agentRssMaxMb: quantile(rss, 1),
    gobgpdRssMb: quantile(gobgpdRss, 0.5),
    idleCpuPct: pct((cpu[2] as number) - (cpu[0] as number), seconds),
    halvesPct,
    gobgpdIdleCpuPct: pct(cpuSeconds(gobgpd) - gobgpdCpu0, seconds),
  };
}

/** node1's kernel and gobgpd hold every injected route. */
async function routesIn(lab: BgpLab, ribBase: number): Promise<void> {
  const ns = lab.netns('node1');
  await until(
    '10k routes in node1',
    () => countRoutes(ns, TABBY_PROTOCOL),
    (n) => n >= ROUTES,
    180_000,
    500,
  );
  await until(
    '10k paths in gobgpd',
    () => gobgpRibCount(ns),
    (n) => n >= ribBase + ROUTES,
    180_000,
    500,
  );
}

async function main(c: Cleanup): Promise<void> {
  const started = Date.now();
  const lab = await tabbyLab(c, {
    bench: 'memory',
    prefix: 'bmem',
    pool: { name: 'bench-mem', cidr: '10.244.0.0/20', blockSize: 26 },
    agentArgs: ['--resync-interval', String(RESYNC_S)],
    compiled: true,
  });

  say(`${PODS} pods on node1, ${ADD_CONCURRENCY} ADDs at a time`);
  let next = 0;
  await Promise.all(
    Array.from({ length: ADD_CONCURRENCY }, async () => {
      for (let i = next++; i < PODS; i = next++) await lab.addPod('node1', `m${i}`);
    }),
  );

  say(`${ROUTES} routes from an injector`);
  const ribBase = await gobgpRibCount(lab.netns('node1'));
  const injector = await startInjector(c, lab, 'node1');
  await injector.inject(Array.from({ length: ROUTES }, (_, i) => injectedPrefix(i, 24)));
  await routesIn(lab, ribBase);

  const phase = async (name: string): Promise<Sample> => {
    say(`${name}: ${SETTLE_S} s to settle, then ${IDLE_S} s idle`);
    const s = await sample(lab, name);
    say(`${name}: ${JSON.stringify(s)}`);
    return s;
  };
  const live = await phase('live');
  say('restarting node1 agent (compiled)');
  await lab.cluster.startAgent('node1');
  await routesIn(lab, ribBase);
  const restarted = await phase('restarted');
  say('restarting node1 agent under tsx');
  delete process.env.TABBY_LAB_AGENT;
  await lab.cluster.startAgent('node1');
  await routesIn(lab, ribBase);
  const tsx = await phase('tsx');

  const worse = live.agentRssMb >= restarted.agentRssMb ? live : restarted;
  const mb = (x: number) => round(x, 1);
  const pct = (x: number) => round(x, 2);
  publish('memory', {
    pods: PODS,
    routes: ROUTES,
    agent_runtime: 'node dist/felix/main.js',
    agent_rss_mb: mb(worse.agentRssMb),
    agent_rss_phase: worse.runtime,
    gobgpd_rss_mb: mb(Math.max(live.gobgpdRssMb, restarted.gobgpdRssMb)),
    idle_cpu_pct: pct(Math.max(live.idleCpuPct, restarted.idleCpuPct)),
    target_agent_rss_mb: 80,
    target_idle_cpu_pct: 1,
    live_agent_rss_mb: mb(live.agentRssMb),
    live_agent_rss_max_mb: mb(live.agentRssMaxMb),
    live_gobgpd_rss_mb: mb(live.gobgpdRssMb),
    live_idle_cpu_pct: pct(live.idleCpuPct),
    live_idle_cpu_pct_halves: live.halvesPct.map(pct),
    restarted_agent_rss_mb: mb(restarted.agentRssMb),
    restarted_agent_rss_max_mb: mb(restarted.agentRssMaxMb),
    restarted_gobgpd_rss_mb: mb(restarted.gobgpdRssMb),
    restarted_idle_cpu_pct: pct(restarted.idleCpuPct),
    restarted_idle_cpu_pct_halves: restarted.halvesPct.map(pct),
    tsx_agent_rss_mb: mb(tsx.agentRssMb),
    tsx_idle_cpu_pct: pct(tsx.idleCpuPct),
    gobgpd_idle_cpu_pct: pct(Math.max(live.gobgpdIdleCpuPct, restarted.gobgpdIdleCpuPct)),
    idle_window_s: IDLE_S,
    resync_interval_s: RESYNC_S,
    bench_s: Math.round((Date.now() - started) / 1000),
  });
}

await withCleanup(main);
