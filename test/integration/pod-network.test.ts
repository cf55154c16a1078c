// Pod networking on one node with the real pieces: a tabby agent in a node namespace, the
// built plugin executable, the shared kube-apiserver + etcd, real veths and routes. Pods are
// plain namespaces here (containerd and cnitool have their own files).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cidrContains, parseCidr } from '../../common/addr.js';
import type { Datastore } from '../../datastore/index.js';
import { kubernetesDatastore } from '../../datastore/index.js';
import { POD_IPS_ANNOTATION } from '../../felix/pod-annotations.js';
import { Ipam } from '../../ipam/index.js';
import { ipJson, netnsExists } from '../../kernel/index.js';
import { isRoot, ROOT_REASON } from '../helpers.js';
import { wipeIpam } from '../ipam-fixtures.js';
import { TestNode } from '../node-fixture.js';

const POOL_NAME = 'pod-network-it';
const POOL = '10.244.64.0/20';
const POOL6_NAME = 'pod-network-it6';
const POOL6 = 'fd10:244::/112';
const PROTO = '201';

interface Route {
  dst: string;
  dev?: string;
  type?: string;
  protocol?: string;
}

describe.skipIf(!isRoot)(`pod networking on a node (${ROOT_REASON})`, () => {
  let ds: Datastore;
  let node: TestNode;
  const ipam = () => new Ipam(ds);

  const add = async (pod: string, opts: { containerId?: string; args?: string } = {}) => {
    const ns = await node.addPod(pod);
    const containerId = opts.containerId ?? `cid-${pod}`;
    const out = await node.cni({
      command: 'ADD',
      containerId,
      netns: ns.path,
      ifname: 'eth0',
      args: opts.args ?? `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`,
    });
    expect(out.stderr + out.stdout, 'ADD failed').toSatisfy(() => out.exitCode === 0);
    const result = out.json as { ips: { address: string }[]; interfaces: { name: string }[] };
    const ip = (result.ips[0]?.address ?? '').split('/')[0] as string;
    return { ns, containerId, ip, result, hostVeth: result.interfaces[0]?.name as string };
  };
  const del = (containerId: string, netns?: string, conf?: Record<string, unknown>) =>
    node.cni({ command: 'DEL', containerId, netns: netns ?? '', ifname: 'eth0' }, conf ?? node.netconf());
  const ping = (fromNs: string, ip: string) =>
    node.exec(fromNs, ['ping', '-c', '1', '-W', '2', ip]).then(
      () => true,
      () => false,
    );
  const nodeRoutes = () => ipJson<Route[]>(node.netns, ['route', 'show', 'table', 'main']);

  beforeAll(async () => {
    ds = kubernetesDatastore(inject('kubeconfig'));
    await ds.ipPools.delete(POOL_NAME).catch(() => {});
    await ds.ipPools.create({ metadata: { name: POOL_NAME }, spec: { cidr: POOL } });
    await ds.ipPools.delete(POOL6_NAME).catch(() => {});
    await ds.ipPools.create({ metadata: { name: POOL6_NAME }, spec: { cidr: POOL6 } });
    node = await TestNode.start({
      prefix: 'tbyp',
      kubeconfig: inject('kubeconfig'),
      apiSocket: inject('apiSocket'),
      pool: POOL_NAME,
    });
  });
  afterAll(async () => {
    await node?.close();
    if (ds) {
      await wipeIpam(ds, { pool: POOL, nodes: node ? [node.name] : [] }).catch(() => {});
      await wipeIpam(ds, { pool: POOL6, nodes: [] }).catch(() => {});
      await ds.close();
    }
  });

  it('wires two pods with distinct addresses that reach each other and the node', async () => {
    const a = await add('a');
    const b = await add('b');
    expect(a.ip).not.toBe(b.ip);
    expect(cidrContains(parseCidr(POOL), a.ip) && cidrContains(parseCidr(POOL), b.ip)).toBe(true);
    expect(await ping(a.ns.name, b.ip)).toBe(true);
    expect(await ping(b.ns.name, a.ip)).toBe(true);
    expect(await ping(a.ns.name, '198.18.250.1')).toBe(true);
    expect(await ping(node.netns, a.ip)).toBe(true);

    // The pod side: its /32 and the default route via the proxy-ARP gateway.
    const podRoutes = await ipJson<Route & { gateway?: string; scope?: string }[]>(a.ns.name, [
      'route',
      'show',
    ]);
    expect(podRoutes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: 'default', gateway: '169.254.1.1', dev: 'eth0' }),
        expect.objectContaining({ dst: '169.254.1.1', dev: 'eth0', scope: 'link' }),
      ]),
    );
    // The node: /32 dev <veth> proto tabby for each pod, a blackhole for the block.
    const routes = await nodeRoutes();
    for (const p of [a, b]) {
      expect(routes).toContainEqual(expect.objectContaining({ dst: p.ip, dev: p.hostVeth, protocol: PROTO }));
    }
    const blocks = routes.filter((r) => r.type === 'blackhole' && r.protocol === PROTO);
    expect(blocks.some((r) => cidrContains(parseCidr(r.dst), a.ip))).toBe(true);
  });

  it('DEL removes the veth, the route and the address; a second DEL and a re-ADD work', async () => {
    const c = await add('c');
    const handle = `tabby-it/${c.containerId}`;
    expect((await ipam().addressesOf(handle, node.name)).map((x) => x.address)).toEqual([c.ip]);
    const out = await del(c.containerId, c.ns.path);
    expect(out.exitCode, out.stdout).toBe(0);
    expect(await ipJson(node.netns, ['link', 'show']).then((l) => JSON.stringify(l))).not.toContain(
      c.hostVeth,
    );
    expect((await nodeRoutes()).some((r) => r.dst === c.ip)).toBe(false);
    expect(await ipam().addressesOf(handle, node.name)).toEqual([]);
    // containerd's second DEL: empty CNI_NETNS, no prevResult.
    expect((await del(c.containerId, '')).exitCode).toBe(0);
    // A DEL for a container tabby never saw.
    expect((await del('never-seen')).exitCode).toBe(0);

    await node.removePod(c.ns.name);
    const again = await add('c');
    expect(await ping(again.ns.name, '198.18.250.1')).toBe(true);
  });

  it('DEL after the pod namespace is gone still releases the address', async () => {
    const d = await add('d');
    await node.removePod(d.ns.name);
    expect((await del(d.containerId, d.ns.path)).exitCode).toBe(0);
    expect(await ipam().addressesOf(`tabby-it/${d.containerId}`, node.name)).toEqual([]);
    expect((await nodeRoutes()).some((r) => r.dst === d.ip)).toBe(false);
  });

  it('CHECK passes on a wired pod and fails once its route or its veth is deleted by hand', async () => {
    const e = await add('e');
    const check = () =>
      node.cni(
        { command: 'CHECK', containerId: e.containerId, netns: e.ns.path, ifname: 'eth0' },
        node.netconf('1.0.0', { prevResult: e.result }),
      );
    expect((await check()).exitCode).toBe(0);
    await node.exec(e.ns.name, ['ip', 'route', 'del', 'default']);
    const noRoute = await check();
    expect(noRoute.exitCode).not.toBe(0);
    expect(noRoute.json).toMatchObject({ code: 104 });
    expect(String(noRoute.json?.msg)).toMatch(/default route/);
    await node.exec(e.ns.name, ['ip', 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    expect((await check()).exitCode).toBe(0);
    await node.exec(node.netns, ['ip', 'link', 'del', e.hostVeth]);
    const noVeth = await check();
    expect(noVeth.json).toMatchObject({ code: 104 });
    expect(String(noVeth.json?.msg)).toMatch(new RegExp(e.hostVeth));
  });

  it('puts back a tabby route deleted by hand within 1 s', async () => {
    const f = await add('f');
    await node.exec(node.netns, ['ip', 'route', 'del', `${f.ip}/32`]);
    const deleted = Date.now();
    let back = false;
    while (Date.now() - deleted < 1000 && !back) {
      back = (await nodeRoutes()).some((r) => r.dst === f.ip && r.dev === f.hostVeth && r.protocol === PROTO);
    }
    expect(back).toBe(true);
  });

  it('keeps pods connected while the agent restarts, and adopts them without flapping', async () => {
    const g = await add('g');
    const h = await add('h');
    const pings = node.exec(g.ns.name, ['ping', '-q', '-i', '0.02', '-c', '250', '-W', '1', h.ip], 60_000);
    await new Promise((r) => setTimeout(r, 500));
    await node.agent.stop();
    await node.startAgent();
    const { stdout } = await pings;
    expect(stdout).toMatch(/250 packets transmitted, 250 received/);
    // The restarted agent knows the pods: CHECK and DEL work.
    const check = await node.cni(
      { command: 'CHECK', containerId: g.containerId, netns: g.ns.path, ifname: 'eth0' },
      node.netconf('1.0.0', { prevResult: g.result }),
    );
    expect(check.exitCode, check.stdout).toBe(0);
  });

  it('gives 50 concurrent ADDs 50 distinct addresses', async () => {
    const pods = await Promise.all(Array.from({ length: 50 }, (_, i) => add(`m${i}`)));
    const ips = new Set(pods.map((p) => p.ip));
    expect(ips.size).toBe(50);
    const routes = await nodeRoutes();
    for (const p of pods)
      expect(routes).toContainEqual(expect.objectContaining({ dst: p.ip, dev: p.hostVeth }));
    await Promise.all(pods.map((p) => del(p.containerId, p.ns.path)));
    for (const p of pods) await node.removePod(p.ns.name);
  });

  it('refuses a second ADD of a wired interface and a missing namespace, leaving nothing behind', async () => {
    const k = await add('k');
    const twice = await node.cni({
      command: 'ADD',
      containerId: k.containerId,
      netns: k.ns.path,
      ifname: 'eth0',
    });
    expect(twice.json).toMatchObject({ code: 103 });
    expect(await ping(k.ns.name, '198.18.250.1')).toBe(true); // the first wiring is untouched

    const before = await ipJson<{ ifname: string }[]>(node.netns, ['link', 'show']);
    const gone = await node.cni({
      command: 'ADD',
      containerId: 'cid-ghost',
      netns: '/run/netns/tbyp-no-such',
      ifname: 'eth0',
    });
    expect(gone.exitCode).not.toBe(0);
    expect(await netnsExists('tbyp-no-such')).toBe(false);
    expect(await ipJson<{ ifname: string }[]>(node.netns, ['link', 'show'])).toHaveLength(before.length);
    expect(await ipam().addressesOf('tabby-it/cid-ghost', node.name)).toEqual([]);
  });

  it("a new sandbox of a pod takes its veth over; the old sandbox's late DEL leaves it alone", async () => {
    const args = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=reborn';
    const old = await add('s1', { containerId: 'cid-reborn-1', args });
    const fresh = await add('s2', { containerId: 'cid-reborn-2', args });
    expect(fresh.hostVeth).toBe(old.hostVeth); // the name is per pod
    expect(await ping(fresh.ns.name, '198.18.250.1')).toBe(true);
    const late = await node.cni(
      { command: 'DEL', containerId: old.containerId, netns: '', ifname: 'eth0', args },
      node.netconf(),
    );
    expect(late.exitCode, late.stdout).toBe(0);
    expect(await ping(fresh.ns.name, '198.18.250.1')).toBe(true);
    expect(await ipam().addressesOf(`tabby-it/${old.containerId}`, node.name)).toEqual([]);
    expect(
      (await ipam().addressesOf(`tabby-it/${fresh.containerId}`, node.name)).map((a) => a.address),
    ).toEqual([fresh.ip]);
  });

  it('wires dual-stack pods: a /32 and a /128 each, reachable over both families', async () => {
    const conf = node.netconf('1.0.0', {
      ipam: { assignIpv4: true, assignIpv6: true, pools: [POOL_NAME, POOL6_NAME] },
    });
    const pods = [];
    for (const name of ['v6a', 'v6b']) {
      const ns = await node.addPod(name);
      const out = await node.cni(
        { command: 'ADD', containerId: `cid-${name}`, netns: ns.path, ifname: 'eth0' },
        conf,
      );
      expect(out.exitCode, out.stdout).toBe(0);
      const ips = (out.json as { ips: { address: string }[] }).ips.map((i) => i.address);
      expect(ips).toHaveLength(2);
      const v6 = ips.find((i) => i.includes(':')) as string;
      expect(v6).toMatch(/\/128$/);
      expect(cidrContains(parseCidr(POOL6), v6.split('/')[0] as string)).toBe(true);
      pods.push({
        ns,
        v6: v6.split('/')[0] as string,
        v4: (ips.find((i) => !i.includes(':')) as string).split('/')[0],
      });
    }
    const [a, b] = pods as [(typeof pods)[0], (typeof pods)[0]];
    expect(await ping(a.ns.name, b.v6)).toBe(true);
    expect(await ping(b.ns.name, a.v6)).toBe(true);
    expect(await ping(a.ns.name, b.v4 as string)).toBe(true);
    const routes6 = await ipJson<Route[]>(node.netns, ['-6', 'route', 'show', 'table', 'main']);
    expect(routes6).toContainEqual(expect.objectContaining({ dst: a.v6, protocol: PROTO }));
  });

  it('records the addresses on the Pod object', async () => {
    const name = `annotated-${node.name}`;
    const core = (await import('@kubernetes/client-node')).KubeConfig;
    const kc = new core();
    kc.loadFromFile(inject('kubeconfig'));
    const api = kc.makeApiClient((await import('@kubernetes/client-node')).CoreV1Api);
    const pod = await api.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    });
    try {
      const p = await add('n', {
        args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name};K8S_POD_UID=${pod.metadata?.uid}`,
      });
      let annotations: Record<string, string> | undefined;
      for (let i = 0; i < 50 && !annotations?.[POD_IPS_ANNOTATION]; i++) {
        annotations = (await api.readNamespacedPod({ namespace: 'default', name })).metadata?.annotations;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(annotations?.[POD_IPS_ANNOTATION]).toBe(p.ip);
    } finally {
      await api.deleteNamespacedPod({ namespace: 'default', name, gracePeriodSeconds: 0 });
    }
  });

  it('GC releases every attachment of the network not in the valid list', async () => {
    const keep = await add('q');
    const drop = await add('r');
    const valid = node.netconf('1.1.0', {
      'cni.dev/valid-attachments': [{ containerID: keep.containerId, ifname: 'eth0' }],
    });
    // Everything else of this network on the node goes too, so only keep `keep` and its peers.
    const out = await node.cni({ command: 'GC' }, valid);
    expect(out.exitCode, out.stdout).toBe(0);
    expect(await ping(keep.ns.name, '198.18.250.1')).toBe(true);
    expect(await ipam().addressesOf(`tabby-it/${drop.containerId}`, node.name)).toEqual([]);
    expect((await nodeRoutes()).some((r) => r.dst === drop.ip)).toBe(false);
    expect(JSON.stringify(await ipJson(node.netns, ['link', 'show']))).not.toContain(drop.hostVeth);
  });

  it('STATUS: ready while the agent runs, 50 when it is down', async () => {
    const status = () => node.cni({ command: 'STATUS' }, node.netconf('1.1.0'));
    expect((await status()).exitCode).toBe(0);
    await node.agent.stop();
    try {
      const down = await status();
      expect(down.json).toMatchObject({ code: 50 });
      const add11 = await node.cni({
        command: 'ADD',
        containerId: 'cid-down',
        netns: '/run/netns/x',
        ifname: 'eth0',
      });
      expect(add11.json).toMatchObject({ code: 11 });
    } finally {
      await node.startAgent();
    }
  });
});
