// tabby across two racks: every server (its own AS) speaks eBGP to its top-of-rack router (FRR),
// the ToRs to an FRR spine; the node mesh has nothing to do (no two nodes share an AS). Real
// gobgpd per node, real FRR, real kube-apiserver, pods wired by the real plugin.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForBgp } from '../../lab/status.js';
import { BgpLab, eventually } from '../bgp-lab.js';
import { isRoot, ROOT_REASON } from '../helpers.js';

const POOL = '10.244.128.0/20';
const SERVERS = ['node1', 'node2', 'node3', 'node4'];
/** Each server's ToR address on its /31 (two-racks.clab.yml). */
const TOR_ADDRESS: Record<string, string> = {
  node1: '198.18.1.0',
  node2: '198.18.1.2',
  node3: '198.18.2.0',
  node4: '198.18.2.2',
};

describe.skipIf(!isRoot)(`BGP across two racks, eBGP to FRR ToRs (${ROOT_REASON})`, () => {
  let lab: BgpLab;

  beforeAll(async () => {
    lab = await BgpLab.up({
      topology: 'two-racks',
      prefix: 't2b',
      pool: { name: 'bgp-two-racks-it', cidr: POOL },
      // FRR is a graceful-restart helper: with GR on, it keeps a stopped node's routes (stale)
      // for the restart time. This file checks withdrawal; GR is the mesh file's business.
      peerSpec: { gracefulRestart: false },
      kubeconfig: inject('kubeconfig'),
      apiSocket: inject('apiSocket'),
    });
    await waitForBgp(lab.name, 60_000, { servers: true });
    for (const n of SERVERS) {
      await lab.addPod(n, `${n}-a`);
      await lab.addPod(n, `${n}-b`);
    }
  }, 180_000);
  afterAll(async () => {
    await lab?.down();
  }, 60_000);

  const allBlocks = async () => (await Promise.all(SERVERS.map((n) => lab.blocksOf(n)))).flat().sort();

  it('every pod reaches every other pod, within and across racks', async () => {
    const results = await lab.pingUntilAll(30_000);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(8 * 7);
  });

  it("the ToRs' BGP tables hold exactly the nodes' blocks", async () => {
    const blocks = await allBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const tor of ['tor1', 'tor2', 'spine']) {
      const prefixes = await eventually(
        `${tor}'s pod prefixes`,
        () => lab.routerPrefixes(tor, POOL),
        (p) => JSON.stringify(p) === JSON.stringify(blocks),
        15_000,
      );
      expect(prefixes).toEqual(blocks);
    }
  });

  it("each node's kernel holds the others' blocks via its ToR, tagged with tabby's protocol", async () => {
    for (const n of SERVERS) {
      const others = (await Promise.all(SERVERS.filter((m) => m !== n).map((m) => lab.blocksOf(m))))
        .flat()
        .sort();
      const learned = await eventually(
        `${n}'s learned routes`,
        () => lab.learned(n),
        (l) => others.every((b) => l.has(b)),
        15_000,
      );
      const inPool = [...learned.keys()].filter((d) => d.startsWith('10.244.')).sort();
      expect(inPool).toEqual(others);
      for (const b of others) expect(learned.get(b)).toEqual([TOR_ADDRESS[n]]);
      // its own blocks are blackholes, never learned
      for (const b of await lab.blocksOf(n)) expect(learned.has(b)).toBe(false);
      // the ToR's default route and its /31s were refused by the import policy
      expect([...learned.keys()].filter((d) => !d.startsWith('10.244.'))).toEqual([]);
    }
  });

  it('a stopped agent has its blocks withdrawn within the hold time; started again, they are back', async () => {
    const gone = await lab.blocksOf('node3');
    expect(gone.length).toBeGreaterThan(0);
    const stoppedAt = Date.now();
    await lab.cluster.stopAgent('node3', 'stop');
    await eventually(
      "node3's blocks withdrawn at node1",
      () => lab.learned('node1'),
      (l) => gone.every((b) => !l.has(b)),
      9_000 + 3_000,
    );
    const withdrawnAfterMs = Date.now() - stoppedAt;
    expect(withdrawnAfterMs).toBeLessThan(12_000);
    // node3's own kernel keeps its pods' routes and its blackholes while its agent is away
    const node3 = await lab.routes('node3');
    for (const b of gone) expect(node3.some((r) => r.dst === b && r.type === 'blackhole')).toBe(true);

    await lab.cluster.startAgent('node3');
    await eventually(
      "node3's blocks back at node1",
      () => lab.learned('node1'),
      (l) => gone.every((b) => l.get(b)?.[0] === TOR_ADDRESS.node1),
      40_000,
    );
    const results = await lab.pingUntilAll(20_000);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }, 90_000);
});
