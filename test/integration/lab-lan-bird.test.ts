// The lab's LANs and BIRD routers realized for real, both labs up at once: one-rack (a Linux
// bridge joining three servers and an FRR router) and two-racks-bird (an FRR spine with a BIRD
// ToR, every session to tor2 TCP-MD5-signed); the cluster harness's Kubernetes objects; and
// `down` leaving nothing behind. tabby itself does not run here (its own tests do that).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ipJson, isRunning, type ProcessRef, runInNetns } from '../../kernel/index.js';
import { BGP_PEER_RESOURCE, startCluster } from '../../lab/cluster.js';
import { labUp } from '../../lab/runner.js';
import { readState } from '../../lab/state.js';
import { labStatus, notEstablished, waitForBgp } from '../../lab/status.js';
import { labDown } from '../../lab/teardown.js';
import { parseTopology } from '../../lab/topology/parse.js';
import { isRoot, labLeftovers, ROOT_REASON, uniqueName } from '../helpers.js';

const file = (f: string) => fileURLToPath(new URL(`../../lab/topologies/${f}.clab.yml`, import.meta.url));
const ONE_RACK = file('one-rack');
const TWO_RACKS_BIRD = file('two-racks-bird');
const PASSWORD = 'lab-md5-s3cret';

/**
 * ECMP on a BIRD router: r learns the LAN 198.18.9.0/24 from two FRR routers (equal AS path
 * lengths) that also peer with each other over that LAN.
 */
const ECMP = `name: ecmp
topology:
  nodes:
    r: { kind: linux, labels: { tabby.dev/role: router, tabby.dev/asn: "65000", tabby.dev/bgp-daemon: bird, tabby.dev/router-id: 198.18.255.1 } }
    a: { kind: linux, labels: { tabby.dev/role: router, tabby.dev/asn: "65001", tabby.dev/router-id: 198.18.255.2 } }
    b: { kind: linux, labels: { tabby.dev/role: router, tabby.dev/asn: "65002", tabby.dev/router-id: 198.18.255.3 } }
    lan: { kind: bridge }
  links:
    - endpoints: ["r:eth1", "a:eth1"]
      labels: { tabby.dev/ipv4: 198.18.0.0/31 }
    - endpoints: ["r:eth2", "b:eth1"]
      labels: { tabby.dev/ipv4: 198.18.0.2/31 }
    - endpoints: ["a:eth2", "lan:eth1"]
      labels: { tabby.dev/ipv4: 198.18.9.1/24 }
    - endpoints: ["b:eth2", "lan:eth2"]
      labels: { tabby.dev/ipv4: 198.18.9.2/24 }
`;

/** Retries `fn` until it resolves (BGP-learned routes take a moment after Established). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const ping = (netns: string, address: string) =>
  runInNetns(netns, ['ping', '-c', '1', '-W', '1', address], { timeoutMs: 5000 });

describe.skipIf(!isRoot)(`lab LANs and BIRD routers (${ROOT_REASON})`, () => {
  const lan = uniqueName('lan');
  const bird = uniqueName('brd');
  const lanTopology = parseTopology(readFileSync(ONE_RACK, 'utf8'), { name: lan, source: ONE_RACK });
  // two-racks-bird as it is, plus a password on tor2: FRR (spine) and BIRD (tor2) both sign.
  const birdText = readFileSync(TWO_RACKS_BIRD, 'utf8').replace(
    '\n        tabby.dev/bgp-daemon: bird\n',
    `\n        tabby.dev/bgp-daemon: bird\n        tabby.dev/bgp-password: ${PASSWORD}\n`,
  );
  const birdTopology = parseTopology(birdText, { name: bird, source: TWO_RACKS_BIRD });
  const ecmp = uniqueName('ecmp');
  const ecmpTopology = parseTopology(ECMP, { name: ecmp });

  beforeAll(async () => {
    const results = await Promise.allSettled([
      labUp(lanTopology, { topologyFile: ONE_RACK }),
      labUp(birdTopology, { topologyFile: TWO_RACKS_BIRD }),
      labUp(ecmpTopology),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  afterAll(async () => {
    await labDown(lan);
    await labDown(bird);
    await labDown(ecmp);
  });

  describe('one-rack (kind: bridge)', () => {
    it('makes the bridge node a namespace with br0 up, every link end enslaved, no addresses', async () => {
      const ports = await ipJson<{ ifname: string; operstate: string }[]>(`${lan}-rack1`, [
        'link',
        'show',
        'master',
        'br0',
      ]);
      expect(ports.map((p) => p.ifname).sort()).toEqual(['eth1', 'eth2', 'eth3', 'eth4']);
      const s = await labStatus(lan);
      const rack = s.nodes.find((n) => n.node === 'rack1');
      expect(rack?.role).toBe('bridge');
      expect(rack?.interfaces.flatMap((i) => i.addresses)).toEqual([]);
      expect(rack?.interfaces.find((i) => i.name === 'br0')?.state).toBe('UP');
      expect(
        s.nodes.find((n) => n.node === 'node2')?.interfaces.find((i) => i.name === 'eth1'),
      ).toMatchObject({
        addresses: ['198.18.3.12/24'],
      });
    });

    it('lets the nodes ping each other and the router over the bridge', async () => {
      const members = { node1: '198.18.3.11', node2: '198.18.3.12', node3: '198.18.3.13', tor: '198.18.3.1' };
      for (const from of ['node1', 'node2', 'node3']) {
        for (const [to, address] of Object.entries(members)) {
          if (to !== from) await expect(ping(`${lan}-${from}`, address)).resolves.toBeDefined();
        }
      }
      // The router is the default gateway: its loopback is reached through the default route.
      await expect(ping(`${lan}-node3`, '198.18.255.21')).resolves.toBeDefined();
      const { stdout } = await runInNetns(`${lan}-node1`, ['ip', 'route', 'show', 'default']);
      expect(stdout).toContain('default via 198.18.3.1 dev eth1');
    });

    it('gives the router no BGP session to servers without an AS', async () => {
      const s = await waitForBgp(lan, 30_000, { servers: true });
      expect(s.nodes.find((n) => n.node === 'tor')?.bgp).toEqual([]);
    });
  });

  describe('BIRD routers: two-racks-bird (tor2), and ECMP', () => {
    it('brings the FRR spine ↔ BIRD tor2 session up, MD5-signed, while server sessions wait for tabby', async () => {
      const s = await waitForBgp(bird, 60_000);
      const sessions = (node: string) =>
        (s.nodes.find((n) => n.node === node)?.bgp ?? []).map((b) => [
          b.peer,
          b.peerRole,
          b.remoteAs,
          b.state,
        ]);
      expect(s.nodes.find((n) => n.node === 'tor2')?.daemon).toBe('bird');
      expect(sessions('spine').sort()).toEqual([
        ['198.18.0.1', 'router', 65001, 'Established'],
        ['198.18.0.3', 'router', 65002, 'Established'],
      ]);
      const tor2 = sessions('tor2');
      expect(tor2[0]).toEqual(['198.18.0.2', 'router', 65000, 'Established']);
      expect(tor2.slice(1).map(([peer, role, as]) => [peer, role, as])).toEqual([
        ['198.18.2.1', 'node', 64603],
        ['198.18.2.3', 'node', 64604],
      ]);
      expect(tor2.slice(1).every(([, , , state]) => state !== 'Established')).toBe(true);
      // Both daemons were told the password.
      const conf = readFileSync(`${readState(bird)?.workDir}/tor2/bird.conf`, 'utf8');
      expect(conf.match(new RegExp(`password "${PASSWORD}"`, 'g'))).toHaveLength(3);
      const spineConf = readFileSync(`${readState(bird)?.workDir}/spine/bgpd.conf`, 'utf8');
      expect(spineConf).toContain(`neighbor 198.18.0.3 password ${PASSWORD}`);
      // Router↔server sessions are what is left when asked for all of them.
      expect(notEstablished(s)).toEqual([]);
      expect(notEstablished(s, { servers: true })).toHaveLength(4);
    });

    it('installs BIRD-learned routes and carries the underlay across racks (node1 ↔ node3)', async () => {
      await eventually(() => ping(`${bird}-node1`, '198.18.2.1'));
      await eventually(() => ping(`${bird}-node3`, '198.18.1.1'));
      const { stdout } = await runInNetns(`${bird}-tor2`, ['ip', 'route', 'show', '198.18.1.0/31']);
      expect(stdout).toMatch(/via 198\.18\.0\.2 dev eth1 proto bird/);
      const status = await labStatus(bird);
      const spineFromTor2 = status.nodes.find((n) => n.node === 'tor2')?.bgp?.[0];
      expect(spineFromTor2?.prefixesReceived).toBeGreaterThan(0);
      expect(spineFromTor2?.uptimeMs).toBeGreaterThanOrEqual(0);
    });

    it('installs equal paths as one multipath route (merge paths), and peers routers over a LAN', async () => {
      const s = await waitForBgp(ecmp, 60_000);
      expect(
        s.nodes.find((n) => n.node === 'a')?.bgp?.map((b) => [b.peer, b.peerNode, b.state]),
      ).toContainEqual(['198.18.9.2', 'b', 'Established']);
      const route = await eventually(async () => {
        const { stdout } = await runInNetns(`${ecmp}-r`, ['ip', 'route', 'show', '198.18.9.0/24']);
        if (!stdout.includes('nexthop')) throw new Error(`not multipath yet: ${stdout}`);
        return stdout;
      });
      expect(route).toMatch(/proto bird/);
      expect(route).toMatch(/nexthop via 198\.18\.0\.1 dev eth1/);
      expect(route).toMatch(/nexthop via 198\.18\.0\.3 dev eth2/);
    });

    it('records the BIRD daemon like FRR daemons', async () => {
      const s = await labStatus(bird);
      expect(s.processes.map((p) => p.name?.split('@')[0]).sort()).toEqual([
        'bgpd',
        'bgpd',
        'bird',
        'zebra',
        'zebra',
      ]);
      expect(s.processes.every((p) => p.running)).toBe(true);
    });
  });

  describe('the cluster harness (its objects; the agents are for tabby tests to run)', () => {
    const kc = new KubeConfig();
    let core: CoreV1Api;
    let custom: CustomObjectsApi;
    beforeAll(() => {
      kc.loadFromFile(inject('kubeconfig'));
      core = kc.makeApiClient(CoreV1Api);
      custom = kc.makeApiClient(CustomObjectsApi);
    });
    const controlPlane = () => ({ kubeconfig: inject('kubeconfig'), apiSocket: inject('apiSocket') });
    const mine = async (lab: string, prefix: string) =>
      (await core.listNode({ labelSelector: `tabby.dev/lab=${lab}` })).items
        .map((n) => n.metadata?.name ?? '')
        .filter((n) => n.startsWith(prefix))
        .sort();

    it('creates a Node per server (hostname, rack, address; no AS on one-rack) and deletes them', async () => {
      const prefix = `${uniqueName('h')}-`;
      const cluster = await startCluster({
        lab: lan,
        topology: lanTopology,
        controlPlane: controlPlane(),
        namePrefix: prefix,
        startAgents: false,
      });
      try {
        expect(await mine(lan, prefix)).toEqual([`${prefix}node1`, `${prefix}node2`, `${prefix}node3`]);
        const node2 = await core.readNode({ name: `${prefix}node2` });
        expect(node2.metadata?.labels).toMatchObject({
          'kubernetes.io/hostname': `${prefix}node2`,
          'tabby.dev/rack': 'rack1',
        });
        expect(node2.metadata?.annotations).toEqual({ 'tabby.dev/bgp-ipv4': '198.18.3.12' });
        expect(cluster.peers).toEqual([]);
        expect(cluster.node('node2').socket).toBe(`${readState(lan)?.workDir}/node2/cni.sock`);
      } finally {
        await cluster.stop();
      }
      expect(await mine(lan, prefix)).toEqual([]);
    });

    it('creates node-scoped BGPPeers toward the routers, passwords in Secrets, and deletes them', async (ctx) => {
      const crds = kc.makeApiClient(ApiextensionsV1Api);
      const { group, version, plural } = BGP_PEER_RESOURCE;
      const installed = await crds.readCustomResourceDefinition({ name: `${plural}.${group}` }).then(
        () => true,
        () => false,
      );
      if (!installed) ctx.skip('the BGPPeer CRD is not in deploy/crds yet');
      const prefix = `${uniqueName('h')}-`;
      const cluster = await startCluster({
        lab: bird,
        topology: birdTopology,
        controlPlane: controlPlane(),
        namePrefix: prefix,
        startAgents: false,
      });
      try {
        expect((await core.readNode({ name: `${prefix}node3` })).metadata?.annotations).toMatchObject({
          'tabby.dev/bgp-asn': '64603',
          'tabby.dev/bgp-ipv4': '198.18.2.1',
        });
        const peer = (await custom.getClusterCustomObject({
          group,
          version,
          plural,
          name: `${prefix}node3-tor2`,
        })) as { spec: Record<string, unknown> };
        expect(peer.spec).toEqual({
          node: `${prefix}node3`,
          peerIP: '198.18.2.0',
          asNumber: 65002,
          password: { namespace: 'tabby-system', name: `${prefix}node3-tor2`, key: 'password' },
        });
        const secret = await core.readNamespacedSecret({
          namespace: 'tabby-system',
          name: `${prefix}node3-tor2`,
        });
        expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe(PASSWORD);
        expect(cluster.peers.map((p) => p.name).sort()).toEqual(
          ['node1-tor1', 'node2-tor1', 'node3-tor2', 'node4-tor2'].map((n) => `${prefix}${n}`),
        );
      } finally {
        await cluster.stop();
      }
      expect(await mine(bird, prefix)).toEqual([]);
      await expect(
        custom.getClusterCustomObject({ group, version, plural, name: `${prefix}node3-tor2` }),
      ).rejects.toMatchObject({ code: 404 });
    });
  });

  it('down removes the labs: namespaces, bridges, daemons (BIRD too), work dirs, state', async () => {
    const processes: ProcessRef[] = [lan, bird, ecmp].flatMap((n) => readState(n)?.processes ?? []);
    expect(processes.length).toBe(12);
    await Promise.all([labDown(lan), labDown(bird), labDown(ecmp)]);
    for (const n of [lan, bird, ecmp]) expect(await labLeftovers(n)).toEqual([]);
    expect(processes.filter(isRunning)).toEqual([]);
  });
});
