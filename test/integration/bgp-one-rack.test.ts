// tabby on one rack: three servers on one LAN, all in the default AS, peering with each other
// (no ToR in BGP). The node-to-node mesh; graceful restart across an agent restart and a gobgpd
// crash (pings and kernel routes never lost); then route reflection with the mesh off. Real
// gobgpd per node, real kube-apiserver, pods wired by the real plugin. One lab, tests in order.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NODE_BGP_ANNOTATIONS } from '../../datastore/index.js';
import { BgpLab, eventually, type GobgpNeighbor, setBgpConfiguration } from '../bgp-lab.js';
import { isRoot, ROOT_REASON } from '../helpers.js';

const RACK_AS = 64770;
const POOL = '10.244.144.0/20';
const SERVERS = ['node1', 'node2', 'node3'];
/** Each server's LAN address (one-rack.clab.yml): its BGP address. */
const ADDRESS: Record<string, string> = { node1: '198.18.3.11', node2: '198.18.3.12', node3: '198.18.3.13' };
const CLUSTER_ID = '244.0.0.1';

/** The parts of `gobgp -j global rib` read here: prefix → paths. */
type Rib = Record<
  string,
  { best?: boolean; stale?: boolean; 'neighbor-ip'?: string; attrs: { type: number; value?: unknown }[] }[]
>;
const ATTR = { originatorId: 9, clusterList: 10 } as const;

const others = (n: string) => SERVERS.filter((m) => m !== n);
/** ping's `N packets transmitted, M received, ...` line. */
const summaryLine = (summary: string) =>
  summary.split('\n').find((l) => l.includes('transmitted')) ?? summary;
const plain = (m: Map<string, string[]>) => JSON.stringify([...m].sort(([a], [b]) => a.localeCompare(b)));

describe.skipIf(!isRoot)(
  `BGP on one rack: node mesh, graceful restart, route reflection (${ROOT_REASON})`,
  () => {
    let lab: BgpLab;

    beforeAll(async () => {
      lab = await BgpLab.up({
        topology: 'one-rack',
        prefix: 't1r',
        pool: { name: 'bgp-one-rack-it', cidr: POOL },
        kubeconfig: inject('kubeconfig'),
        apiSocket: inject('apiSocket'),
        // An AS of this file's own: Nodes other files create on the shared API server (in the
        // default AS) must not join this rack's mesh.
        beforeAgents: async (l) => {
          for (const n of SERVERS)
            await l.ds.annotateNode(l.nodeName(n), { [NODE_BGP_ANNOTATIONS.asn]: String(RACK_AS) });
        },
      });
      for (const n of SERVERS) {
        await lab.addPod(n, `${n}-a`);
        await lab.addPod(n, `${n}-b`);
      }
    }, 180_000);
    afterAll(async () => {
      await lab?.down();
    }, 60_000);

    const pod = (name: string) => {
      const p = lab.pods.find((x) => x.name === name);
      if (!p) throw new Error(`no pod ${name}`);
      return p;
    };

    /** What `n` should have learned: every other server's blocks, via that server's address. */
    const wantLearned = async (n: string): Promise<Map<string, string[]>> => {
      const want = new Map<string, string[]>();
      for (const m of others(n)) for (const b of await lab.blocksOf(m)) want.set(b, [ADDRESS[m] as string]);
      return want;
    };
    const learnedExactly = async (n: string, timeoutMs: number) => {
      const want = await wantLearned(n);
      expect(want.size).toBeGreaterThanOrEqual(2);
      const got = await eventually(
        `${n}'s learned routes`,
        () => lab.learned(n),
        (l) => plain(l) === plain(want),
        timeoutMs,
      );
      expect(plain(got)).toBe(plain(want));
    };
    const sessions = async (n: string, peers: string[], timeoutMs: number): Promise<GobgpNeighbor[]> => {
      const want = peers.map((m) => ({ address: ADDRESS[m] as string, state: 'established' }));
      const got = await eventually(
        `${n}'s BGP sessions`,
        () => lab.neighbors(n).catch((e: Error) => [{ address: 'error', state: e.message }]),
        (ns) => JSON.stringify(ns) === JSON.stringify(want),
        timeoutMs,
        500,
      );
      expect(got).toEqual(want);
      return got;
    };
    /**
     * Polls `n`'s kernel until stopped: every time one of `blocks` was missing from its learned
     * routes (or had another next hop than `via`), with when.
     */
    const watchLearned = (n: string, blocks: Map<string, string>) => {
      const misses: string[] = [];
      let polls = 0;
      let stopped = false;
      const started = Date.now();
      const loop = (async () => {
        while (!stopped) {
          const l = await lab.learned(n);
          polls++;
          for (const [b, via] of blocks) {
            const got = l.get(b);
            if (got?.join(' ') !== via)
              misses.push(`+${Date.now() - started} ms ${b}: ${got?.join(' ') ?? 'missing'}`);
          }
          await sleep(150);
        }
      })();
      return {
        async stop() {
          stopped = true;
          await loop;
          return { misses, polls };
        },
      };
    };
    const blocksVia = async (servers: string[]) => {
      const m = new Map<string, string>();
      for (const s of servers) for (const b of await lab.blocksOf(s)) m.set(b, ADDRESS[s] as string);
      return m;
    };

    it('node mesh: every pod reaches every other; each node learns the others’ blocks from them directly', async () => {
      const results = await lab.pingUntilAll(30_000);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(results).toHaveLength(6 * 5);
      for (const n of SERVERS) {
        await learnedExactly(n, 15_000);
        // its own blocks are blackholes, never learned
        const own = await lab.blocksOf(n);
        const routes = await lab.routes(n);
        for (const b of own) expect(routes.some((r) => r.dst === b && r.type === 'blackhole')).toBe(true);
        // `tabby node status`: one established session per other node, nothing else
        await sessions(n, others(n), 15_000);
      }
    });

    it('graceful restart: node2’s agent restarted, established pod↔pod pings lose nothing', async () => {
      await sessions('node2', ['node1', 'node3'], 15_000);
      const ping = lab.startPing(pod('node1-a'), pod('node2-a').ip);
      const watch = watchLearned('node1', await blocksVia(['node2']));
      let stats: Awaited<ReturnType<typeof ping.stop>> | undefined;
      let watched: Awaited<ReturnType<typeof watch.stop>> | undefined;
      const t0 = Date.now();
      const times: Record<string, number> = {};
      try {
        await eventually(
          'ping answered',
          async () => ping.answered(),
          (a) => a >= 10,
          10_000,
        );
        await lab.cluster.stopAgent('node2', 'stop');
        times.stopped = Date.now() - t0;
        // node2's gobgpd said Cease with the GR notification bit: node1 keeps its routes, stale
        const node2Blocks = await lab.blocksOf('node2');
        await eventually(
          "node2's routes stale at node1",
          () => lab.gobgp<Rib>('node1', ['global', 'rib', '-a', 'ipv4']),
          (rib) => node2Blocks.every((b) => rib[b]?.find((p) => p.best)?.stale === true),
          5_000,
        );
        await lab.cluster.startAgent('node2');
        times.started = Date.now() - t0;
        await sessions('node2', ['node1', 'node3'], 45_000);
        times.established = Date.now() - t0;
        await learnedExactly('node2', 20_000);
        // past node2's learner sync (1 s after its peers are back): kept routes are dropped then
        await sleep(3_000);
      } finally {
        stats = await ping.stop();
        watched = await watch.stop();
      }
      console.log(`GR agent restart: ${JSON.stringify(times)} ms; ping ${summaryLine(stats.summary)}`);
      expect(stats.lost).toEqual([]);
      expect(stats.transmitted).toBeGreaterThan(100);
      expect(stats.answered).toBeGreaterThanOrEqual(stats.transmitted - 1);
      expect(watched.polls).toBeGreaterThan(10);
      expect(watched.misses).toEqual([]);
      await sessions('node1', ['node2', 'node3'], 10_000);
      await learnedExactly('node1', 10_000);
    }, 100_000);

    it('gobgpd killed: restarted, state re-applied, kernel routes kept meanwhile', async () => {
      const pid = await lab.gobgpdPid('node3');
      expect(pid).toBeDefined();
      const ping = lab.startPing(pod('node3-a'), pod('node1-b').ip);
      const watch = watchLearned('node3', await blocksVia(['node1', 'node2']));
      let stats: Awaited<ReturnType<typeof ping.stop>> | undefined;
      let watched: Awaited<ReturnType<typeof watch.stop>> | undefined;
      const t0 = Date.now();
      const times: Record<string, number> = {};
      try {
        await eventually(
          'ping answered',
          async () => ping.answered(),
          (a) => a >= 10,
          10_000,
        );
        process.kill(pid as number, 'SIGKILL');
        const again = await eventually(
          'a new gobgpd on node3',
          () => lab.gobgpdPid('node3'),
          (p) => p !== undefined && p !== pid,
          30_000,
        );
        times.restarted = Date.now() - t0;
        expect(again).not.toBe(pid);
        await sessions('node3', ['node1', 'node2'], 45_000);
        times.established = Date.now() - t0;
        await learnedExactly('node3', 20_000);
        await sleep(3_000);
      } finally {
        stats = await ping.stop();
        watched = await watch.stop();
      }
      console.log(`gobgpd kill: ${JSON.stringify(times)} ms; ping ${summaryLine(stats.summary)}`);
      expect(stats.lost).toEqual([]);
      expect(stats.transmitted).toBeGreaterThan(100);
      expect(stats.answered).toBeGreaterThanOrEqual(stats.transmitted - 1);
      expect(watched.polls).toBeGreaterThan(10);
      expect(watched.misses).toEqual([]);
      for (const n of ['node1', 'node2']) await sessions(n, others(n), 10_000);
      const results = await lab.pingUntilAll(20_000);
      expect(results.filter((r) => !r.ok)).toEqual([]);
    }, 100_000);

    it('route reflector, mesh off: node2 and node3 peer only with node1, which reflects next hops unchanged', async () => {
      const reflector = lab.nodeName('node1');
      try {
        expect(
          await lab.ds.annotateNode(reflector, {
            [NODE_BGP_ANNOTATIONS.routeReflectorClusterId]: CLUSTER_ID,
          }),
        ).toBe(true);
        await setBgpConfiguration(lab.ds, { nodeToNodeMeshEnabled: false });
        await sessions('node1', ['node2', 'node3'], 60_000);
        await sessions('node2', ['node1'], 60_000);
        await sessions('node3', ['node1'], 60_000);
        // reflection keeps the next hop: node2 reaches node3's pods straight, not through node1
        for (const n of SERVERS) await learnedExactly(n, 30_000);
        const rib = await lab.gobgp<Rib>('node2', ['global', 'rib', '-a', 'ipv4']);
        for (const b of await lab.blocksOf('node3')) {
          const path = rib[b]?.find((p) => p.best);
          expect(path?.['neighbor-ip']).toBe(ADDRESS.node1);
          expect(path?.attrs.find((a) => a.type === ATTR.originatorId)?.value).toBe(ADDRESS.node3);
          expect(path?.attrs.find((a) => a.type === ATTR.clusterList)?.value).toEqual([CLUSTER_ID]);
        }
        const results = await lab.pingUntilAll(30_000);
        expect(results.filter((r) => !r.ok)).toEqual([]);
        expect(results).toHaveLength(6 * 5);
      } finally {
        await setBgpConfiguration(lab.ds);
        await lab.ds.annotateNode(reflector, { [NODE_BGP_ANNOTATIONS.routeReflectorClusterId]: null });
      }
    }, 120_000);
  },
);
