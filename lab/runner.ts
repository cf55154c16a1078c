// `lab up`: realizes a validated topology with network namespaces, veths, bridges and routers
// (FRR or BIRD). Order: preflight (nothing created) → state file → namespaces → veths →
// addresses/routes/bridges → BGP daemons.
// Any failure tears down what was created, so a failed `up` leaves nothing behind.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  addNetns,
  createVethPair,
  ipBatch,
  listNetns,
  type ProcessRef,
  refFor,
  setSysctls,
} from '../kernel/index.js';
import { checkBirdInstalled, startBird } from './bird.js';
import { LabError } from './errors.js';
import { checkFrrInstalled, startFrr } from './frr.js';
import { createState, type LabState, labWorkDir, readState, writeState } from './state.js';
import { labDown } from './teardown.js';
import { renderBirdConf } from './topology/bird-config.js';
import { renderBgpdConf, renderZebraConf } from './topology/frr-config.js';
import { planLab, type RouterPlan } from './topology/plan.js';
import type { Topology } from './topology/types.js';

export interface UpOptions {
  topologyFile?: string;
  progress?: (msg: string) => void;
  /** Aborting (e.g. on Ctrl-C) stops between steps and removes what was created. */
  signal?: AbortSignal;
}

export async function labUp(topology: Topology, opts: UpOptions = {}): Promise<LabState> {
  const progress = opts.progress ?? (() => {});
  const checkAborted = () => opts.signal?.throwIfAborted();
  const plan = planLab(topology);

  // Preflight: refuse before creating anything.
  if (readState(plan.name)) {
    throw new LabError(
      `lab "${plan.name}" is already up (or left by a crash): run \`lab down ${plan.name}\` first`,
    );
  }
  const existing = new Set(await listNetns());
  const taken = plan.namespaces.filter((n) => existing.has(n.netns)).map((n) => n.netns);
  if (taken.length > 0) {
    throw new LabError(
      `network namespace(s) ${taken.join(', ')} already exist and are not this lab's; remove them or pick another --name`,
    );
  }
  if (plan.routers.some((r) => r.daemon === 'frr')) checkFrrInstalled();
  if (plan.routers.some((r) => r.daemon === 'bird')) checkBirdInstalled();

  const workDir = labWorkDir(plan.name);
  const state: LabState = {
    version: 1,
    name: plan.name,
    topologyFile: opts.topologyFile,
    phase: 'creating',
    createdAt: new Date().toISOString(),
    owner: refFor(process.pid, 'lab up'),
    workDir,
    nodes: [],
    links: topology.links.map((l) => ({
      a: `${l.a.node}:${l.a.interface}`,
      b: `${l.b.node}:${l.b.interface}`,
    })),
    processes: [],
  };
  createState(state);
  try {
    mkdirSync(workDir, { recursive: true });
    progress(`creating ${plan.namespaces.length} namespaces`);
    for (const ns of plan.namespaces) {
      checkAborted();
      const router = plan.routers.find((r) => r.node === ns.node);
      state.nodes.push({
        node: ns.node,
        netns: ns.netns,
        role: ns.role,
        ...(router && {
          runDir: join(workDir, ns.node),
          daemon: router.daemon,
          peers: router.neighbors.map((n) => ({
            address: n.address,
            node: n.peerNode,
            role: n.peerRole,
            remoteAs: n.remoteAs,
          })),
        }),
      });
      writeState(state); // recorded before it exists
      await addNetns(ns.netns);
      await setSysctls(ns.netns, ns.sysctls);
    }
    checkAborted();
    progress(`creating ${plan.veths.length} links`);
    for (const v of plan.veths) await createVethPair(v.a, v.b, v.mtu);
    checkAborted();
    progress('configuring addresses and routes');
    await settleAll(plan.namespaces.map((ns) => ipBatch(ns.netns, ns.commands)));
    if (plan.routers.length > 0)
      progress(`starting ${plan.routers.map((r) => `${r.daemon.toUpperCase()} on ${r.node}`).join(', ')}`);
    const record = (p: ProcessRef) => {
      state.processes.push(p);
      writeState(state);
    };
    await settleAll(
      plan.routers.map(async (r) => {
        const runDir = state.nodes.find((n) => n.node === r.node)?.runDir;
        if (!runDir) throw new Error(`internal: router ${r.node} not planned`);
        await startRouter(topology, r, runDir, record);
      }),
    );
    checkAborted();
    state.phase = 'up';
    writeState(state);
    return state;
  } catch (e) {
    progress(`failed (${(e as Error).message}); removing what was created`);
    await labDown(plan.name).catch(() => {});
    throw e;
  }
}

async function startRouter(
  topology: Topology,
  r: RouterPlan,
  runDir: string,
  record: (p: ProcessRef) => void,
): Promise<void> {
  const node = topology.nodes.find((n) => n.name === r.node);
  if (!node) throw new Error(`internal: router ${r.node} not in the topology`);
  if (r.daemon === 'bird') {
    await startBird(
      r.netns,
      runDir,
      renderBirdConf(topology, node, { logFile: join(runDir, 'bird.log') }),
      record,
    );
    return;
  }
  const log = join(runDir, 'frr.log');
  await startFrr(
    r.netns,
    runDir,
    {
      zebra: renderZebraConf(node, { logFile: log }),
      bgpd: renderBgpdConf(topology, node, { logFile: log }),
    },
    record,
  );
}

/**
 * Waits for every promise, then rejects with the first failure. Unlike Promise.all it never
 * leaves work running while the caller cleans up (a router still starting its daemons).
 */
async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
