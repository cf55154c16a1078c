// tabby with a second real BGP implementation and its defences, on two-racks-bird (FRR spine and
// tor1, BIRD 2 on tor2; every session of tor2 TCP-MD5 signed):
//   - BIRD as a ToR: pods across racks reach each other, BIRD's table holds the nodes' blocks;
//   - MD5: node3's matching password establishes; node4's wrong one never does;
//   - import filters: a rogue peer of node1 advertising a default route, a /32 inside another
//     node's block, a prefix outside the pools, then more than its max-prefix — refused, and
//     node1's kernel unchanged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GobgpClient } from '../../bgp/gobgp-client.js';
import { GobgpdSupervisor } from '../../bgp/gobgpd-process.js';
import { addressAt, parseCidr } from '../../common/addr.js';
import { silentLogger } from '../../felix/log.js';
import { addNetns, createVethPair, deleteNetns, ipBatch } from '../../kernel/index.js';
import { BgpLab, eventually } from '../bgp-lab.js';
import { isRoot, ROOT_REASON } from '../helpers.js';

const POOL = '10.244.160.0/20';
const PASSWORD = 'tor2-md5-s3cret';
const ROGUE_AS = 65099;
/** The rogue's /31 to node1 (198.18.9.0 rogue, .1 node1). */
const ROGUE_IP = '198.18.9.0';
const NODE1_ROGUE_IP = '198.18.9.1';
const MAX_PREFIXES = 5;

const up = (ns: { address: string; state: string }[], address: string) =>
  ns.some((n) => n.address === address && n.state === 'established');

describe.skipIf(!isRoot)(`BGP with a BIRD ToR, MD5 and import filters (${ROOT_REASON})`, () => {
  let lab: BgpLab;
  const rogueNs = `tbyrg-${process.pid % 100000}`;
  let rogueDir = '';
  let rogue: GobgpdSupervisor | undefined;
  let rogueApi: GobgpClient | undefined;

  beforeAll(async () => {
    lab = await BgpLab.up({
      topology: 'two-racks-bird',
      prefix: 'tbm',
      pool: { name: 'bgp-bird-it', cidr: POOL },
      kubeconfig: inject('kubeconfig'),
      apiSocket: inject('apiSocket'),
      peerSpec: { gracefulRestart: false },
      edit: (text) =>
        text.replace(
          '\n        tabby.dev/bgp-daemon: bird\n',
          `\n        tabby.dev/bgp-daemon: bird\n        tabby.dev/bgp-password: ${PASSWORD}\n`,
        ),
      beforeAgents: async (l) => {
        // node4's BGPPeer names a Secret holding the wrong password.
        const kc = new KubeConfig();
        kc.loadFromFile(inject('kubeconfig'));
        const core = kc.makeApiClient(CoreV1Api);
        const node4 = l.nodeName('node4');
        const peer = (await l.ds.bgpPeers.list()).items.find((p) => p.spec.node === node4);
        if (!peer?.spec.password) throw new Error('node4 has no password BGPPeer');
        const name = `${peer.metadata.name}-wrong`;
        await core.deleteNamespacedSecret({ name, namespace: 'tabby-system' }).catch(() => {});
        await core.createNamespacedSecret({
          namespace: 'tabby-system',
          body: { metadata: { name }, stringData: { password: 'not-the-password' } },
        });
        await l.ds.bgpPeers.update({
          ...peer,
          spec: { ...peer.spec, password: { ...peer.spec.password, name } },
        });
      },
    });
    for (const n of ['node1', 'node2', 'node3']) await lab.addPod(n, `${n}-a`);
  }, 180_000);
  afterAll(async () => {
    rogueApi?.close();
    await rogue?.stop().catch(() => {});
    await deleteNetns(rogueNs).catch(() => {});
    if (rogueDir) rmSync(rogueDir, { recursive: true, force: true });
    await lab?.down();
  }, 60_000);

  it('pods across an FRR rack and a BIRD rack reach each other', async () => {
    const results = await lab.pingUntilAll(40_000);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(3 * 2);
  });

  it("BIRD's table holds the blocks of the nodes that peer with it, and node3 learned via BIRD", async () => {
    const blocks = [
      ...(await lab.blocksOf('node1')),
      ...(await lab.blocksOf('node2')),
      ...(await lab.blocksOf('node3')),
    ].sort();
    const inBird = await eventually(
      "tor2's pod prefixes",
      () => lab.routerPrefixes('tor2', POOL),
      (p) => JSON.stringify(p) === JSON.stringify(blocks),
      20_000,
    );
    expect(inBird).toEqual(blocks);
    const learned = await lab.learned('node3');
    for (const b of [...(await lab.blocksOf('node1')), ...(await lab.blocksOf('node2'))]) {
      expect(learned.get(b)).toEqual(['198.18.2.0']);
    }
  });

  it('MD5: the matching password establishes, a wrong one never does', async () => {
    expect(up(await lab.neighbors('node3'), '198.18.2.0')).toBe(true);
    // node4 has had ≥ 15 s (three connect retries) by now; check for a few more seconds
    for (let i = 0; i < 4; i++) {
      const node4 = await lab.neighbors('node4');
      expect(node4.map((n) => n.address)).toEqual(['198.18.2.2']);
      expect(up(node4, '198.18.2.2')).toBe(false);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(await lab.routerPrefixes('tor2', POOL)).not.toEqual(
      expect.arrayContaining(await lab.blocksOf('node4').then((b) => (b.length ? b : ['none']))),
    );
  }, 30_000);

  it("refuses a peer's default route, a /32 inside another node's block, prefixes outside the pools, and more than max-prefix routes; the kernel is unchanged", async () => {
    // A rogue BGP speaker on its own /31 to node1, configured as a node-scoped BGPPeer.
    await addNetns(rogueNs);
    await createVethPair({ netns: rogueNs, name: 'eth0' }, { netns: lab.netns('node1'), name: 'rogue0' });
    await ipBatch(rogueNs, [
      { op: 'addr-add', dev: 'eth0', family: 4, address: ROGUE_IP, prefixLength: 31 },
      { op: 'link-up', dev: 'eth0' },
    ]);
    await ipBatch(lab.netns('node1'), [
      { op: 'addr-add', dev: 'rogue0', family: 4, address: NODE1_ROGUE_IP, prefixLength: 31 },
      { op: 'link-up', dev: 'rogue0' },
    ]);
    rogueDir = mkdtempSync(join(tmpdir(), 'tbyrg-'));
    const api = `unix://${join(rogueDir, 'gobgpd.sock')}`;
    rogue = new GobgpdSupervisor({ mode: 'spawn', netns: rogueNs, apiAddress: api, log: silentLogger() });
    await rogue.start();
    rogueApi = new GobgpClient({ target: api });
    await rogueApi.startBgp({
      asn: ROGUE_AS,
      routerId: ROGUE_IP,
      listenPort: 179,
      listenAddresses: [ROGUE_IP],
    });
    const node1Asn = 64601;
    await rogueApi.addPeer({
      address: NODE1_ROGUE_IP,
      asn: node1Asn,
      description: 'rogue',
      holdTime: 9,
      keepaliveInterval: 3,
      connectRetry: 5,
      families: [4],
    });
    const others = [...(await lab.blocksOf('node2')), ...(await lab.blocksOf('node3'))];
    expect(others.length).toBeGreaterThan(0);
    const before = await eventually(
      "node1 holds the other nodes' blocks",
      () => lab.learned('node1'),
      (l) => others.every((b) => l.has(b)),
      20_000,
    );

    const node2Block = (await lab.blocksOf('node2'))[0] as string;
    const hijack = `${addressAt(parseCidr(node2Block), 9)}/32`;
    await rogueApi.addPaths(4, [{ prefix: '0.0.0.0/0' }, { prefix: hijack }, { prefix: '10.99.0.0/24' }]);
    await lab.ds.bgpPeers.create({
      metadata: { name: `${lab.name}-rogue` },
      spec: {
        node: lab.nodeName('node1'),
        peerIP: ROGUE_IP,
        asNumber: ROGUE_AS,
        maxPrefixes: MAX_PREFIXES,
        gracefulRestart: false,
      },
    });
    // the session comes up and the three routes arrive at node1's gobgpd...
    await eventually(
      'rogue session established at node1',
      () => lab.neighbors('node1'),
      (ns) => up(ns, ROGUE_IP),
      30_000,
    );
    await eventually(
      'rogue routes received',
      () => rogueApi?.listPeers({ advertised: true }) ?? Promise.resolve([]),
      (ps) => ps.some((p) => p.advertised >= 3),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    // ...and none of them reaches node1's RIB or kernel
    const rib = await lab.gobgp<Record<string, unknown>>('node1', ['global', 'rib']);
    for (const p of ['0.0.0.0/0', hijack, '10.99.0.0/24']) expect(Object.keys(rib)).not.toContain(p);
    expect(await lab.learned('node1')).toEqual(before);

    // more than max-prefix routes: the session is shut down. The routes are pool-shaped /26s no node owns (a node's real block would rightly stay learned via its ToR)
    const owned = new Set(
      (await Promise.all(['node1', 'node2', 'node3', 'node4'].map((n) => lab.blocksOf(n)))).flat(),
    );
    const blocks = [...Array(64).keys()]
      .map((i) => `10.244.${160 + Math.floor(i / 4)}.${(i % 4) * 64}/26`)
      .filter((b) => !owned.has(b))
      .slice(0, MAX_PREFIXES + 3);
    await rogueApi.addPaths(
      4,
      blocks.map((prefix) => ({ prefix })),
    );
    await eventually(
      'rogue peer shut down for max prefixes at node1',
      () => lab.neighbors('node1'),
      (ns) => ns.some((n) => n.address === ROGUE_IP) && !up(ns, ROGUE_IP),
      20_000,
    );
    // whatever arrived before the limit tripped goes with the session
    const after = await eventually(
      "node1's kernel back to what it was",
      () => lab.learned('node1'),
      (l) => blocks.every((b) => !l.has(b)) && others.every((b) => l.has(b)),
      15_000,
    );
    expect(after).toEqual(before);
    // pods still fine
    const results = await lab.pingUntilAll(10_000);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }, 90_000);
});
