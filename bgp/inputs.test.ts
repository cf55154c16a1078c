import { afterEach, describe, expect, it } from 'vitest';
import type { Watch } from '../datastore/datastore.js';
import { DatastoreError } from '../datastore/errors.js';
import { type MemoryDatastore, memoryDatastore } from '../datastore/memory.js';
import { labelsForNode } from '../datastore/names.js';
import { NODE_BGP_ANNOTATIONS } from '../datastore/resources.js';
import { recordingLog } from '../felix/fake-log.js';
import { computeDesiredBgp } from './desired.js';
import { BgpInputsSource, type BgpInputsSourceOptions, borrowedIn } from './inputs.js';
import type { BgpInputs } from './inputs-types.js';

const sources: BgpInputsSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function source(ds: MemoryDatastore, over: Partial<BgpInputsSourceOptions> = {}) {
  const seen: BgpInputs[] = [];
  const { log, entries } = recordingLog();
  const s = new BgpInputsSource({
    ds,
    node: 'n1',
    log,
    onChange: (i) => seen.push(i),
    debounceMs: 5,
    retry: { initialMs: 1, maxMs: 5 },
    ...over,
  });
  sources.push(s);
  return { s, seen, entries, last: () => seen.at(-1) as BgpInputs };
}

/** Block `cidr` affine to `affinity`, ordinal i held by holders[i] (undefined: free). */
function block(cidr: string, affinity: string | undefined, holders: (string | undefined)[]) {
  const attributes = holders.flatMap((n, i) => (n ? [{ handle: `h${i}`, node: n, sequence: 1 }] : []));
  let next = 0;
  return {
    cidr,
    ...(affinity ? { affinity } : {}),
    allocations: holders.map((n) => (n ? next++ : null)),
    attributes,
    free: [],
    sequence: 1,
  };
}

async function seed(ds: MemoryDatastore): Promise<void> {
  ds.setNodeInfo('n1', {
    labels: { rack: 'r1' },
    annotations: { [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.1' },
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
  });
  ds.setNodeInfo('n2', { annotations: { [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.2' } });
  await ds.bgpConfigurations.create({ metadata: { name: 'default' }, spec: { asNumber: 65000 } });
  await ds.bgpConfigurations.create({ metadata: { name: 'other' }, spec: { asNumber: 1 } });
  await ds.ipPools.create({ metadata: { name: 'p4' }, spec: { cidr: '10.244.0.0/16' } });
  const aff = (name: string, node: string, cidr: string, state: 'confirmed' | 'pending') =>
    ds.blockAffinities.create({
      metadata: { name, labels: labelsForNode(node) },
      spec: { node, cidr, state },
    });
  await aff('a1', 'n1', '10.244.1.0/30', 'confirmed');
  await aff('a2', 'n1', '10.244.1.4/30', 'pending');
  await aff('a3', 'n2', '10.244.2.0/30', 'confirmed');
  await ds.ipamBlocks.create({
    metadata: { name: 'b1' },
    spec: block('10.244.1.0/30', 'n1', ['n1', 'n2', undefined, 'n1']),
  });
  await ds.ipamBlocks.create({
    metadata: { name: 'b2' },
    spec: block('10.244.2.0/30', 'n2', [undefined, 'n1', 'n2', 'n3']),
  });
}

describe('BgpInputsSource', () => {
  it('gathers everything BGP needs for one node', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    ds.setSecret('tabby-system', 'bgp', { tor: 's3cret', mesh: 'm3sh' });
    const ref = (key: string) => ({ namespace: 'tabby-system', name: 'bgp', key });
    await ds.bgpConfigurations.update({
      ...(await ds.bgpConfigurations.get('default'))!,
      spec: { asNumber: 65000, meshPassword: ref('mesh') },
    });
    await ds.bgpPeers.create({
      metadata: { name: 'tor' },
      spec: {
        peerIP: '10.0.0.254',
        asNumber: 65100,
        password: ref('tor'),
        nodeSelector: { matchLabels: { rack: 'r1' } },
      },
    });
    await ds.bgpPeers.create({
      metadata: { name: 'not-mine' },
      spec: { peerIP: '10.0.0.253', asNumber: 65100, password: ref('other'), node: 'n2' },
    });
    await ds.bgpPeers.create({
      metadata: { name: 'missing' },
      spec: { peerIP: '10.0.0.252', asNumber: 65100, password: { namespace: 'x', name: 'none', key: 'k' } },
    });
    const { s, seen } = source(ds);
    const first = await s.start();
    expect(seen).toHaveLength(1);
    expect(first).toEqual({
      node: 'n1',
      nodes: [
        {
          name: 'n1',
          labels: { rack: 'r1' },
          annotations: { [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.1' },
          addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
        },
        { name: 'n2', labels: {}, annotations: { [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.2' }, addresses: [] },
      ],
      config: { asNumber: 65000, meshPassword: ref('mesh') },
      peers: [
        expect.objectContaining({ metadata: expect.objectContaining({ name: 'missing' }) }),
        expect.anything(),
        expect.anything(),
      ],
      // Only the Secrets this node uses are read.
      secrets: new Map([
        ['tabby-system/bgp/mesh', 'm3sh'],
        ['tabby-system/bgp/tor', 's3cret'],
      ]),
      pools: [{ cidr: '10.244.0.0/16' }],
      affineBlocks: ['10.244.1.0/30'],
      borrowedHere: ['10.244.2.1'],
      borrowedElsewhere: ['10.244.1.1', '10.244.2.3'],
    });
    expect(first?.peers.map((p) => p.metadata.name)).toEqual(['missing', 'not-mine', 'tor']);
    expect(s.current()).toBe(first);
  });

  it('follows changes, debounced, and stays quiet when nothing BGP reads changed', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    const { s, seen, last } = source(ds, { debounceMs: 30 });
    await s.start();
    // A burst: one call.
    await ds.bgpPeers.create({ metadata: { name: 'p1' }, spec: { peerIP: '10.0.0.254', asNumber: 1 } });
    await ds.bgpPeers.create({ metadata: { name: 'p2' }, spec: { peerIP: '10.0.0.253', asNumber: 1 } });
    await ds.annotateNode('n2', { [NODE_BGP_ANNOTATIONS.ipv6]: 'fd00::2' });
    await until(() => seen.length === 2);
    await sleep(60);
    expect(seen).toHaveLength(2);
    expect(last().peers.map((p) => p.metadata.name)).toEqual(['p1', 'p2']);
    expect(last().nodes[1]?.annotations[NODE_BGP_ANNOTATIONS.ipv6]).toBe('fd00::2');
    // A block change that moves no borrowed address: no call.
    const b1 = (await ds.ipamBlocks.get('b1'))!;
    await ds.ipamBlocks.update({ ...b1, spec: { ...b1.spec, sequence: 2 } });
    await sleep(60);
    expect(seen).toHaveLength(2);
    // A borrowed address given back, a node gone, a pool and an affinity added.
    const b2 = (await ds.ipamBlocks.get('b2'))!;
    await ds.ipamBlocks.update({
      ...b2,
      spec: block('10.244.2.0/30', 'n2', [undefined, undefined, 'n2', 'n3']),
    });
    ds.setNodeInfo('n2', undefined);
    await ds.ipPools.create({ metadata: { name: 'p6' }, spec: { cidr: 'fd00:244::/56' } });
    await ds.blockAffinities.create({
      metadata: { name: 'a4', labels: labelsForNode('n1') },
      spec: { node: 'n1', cidr: '10.244.9.0/30', state: 'confirmed' },
    });
    await until(
      () => last().borrowedHere.length === 0 && last().nodes.length === 1 && last().affineBlocks.length === 2,
    );
    expect(last().pools.map((p) => p.cidr)).toEqual(['10.244.0.0/16', 'fd00:244::/56']);
    expect(last().affineBlocks).toEqual(['10.244.1.0/30', '10.244.9.0/30']);
  });

  it("only Node changes BGP reads count: other annotations' churn gives nothing", async () => {
    const ds = memoryDatastore();
    await seed(ds);
    const { s, seen, last } = source(ds);
    await s.start();
    expect(seen).toHaveLength(1);
    // kubelet, other controllers: annotations of no interest, on this node and others.
    await ds.annotateNode('n1', { 'node.alpha.kubernetes.io/ttl': '0', 'example.com/heartbeat': '1' });
    await ds.annotateNode('n2', { 'example.com/heartbeat': '2' });
    await ds.annotateNode('n2', { 'example.com/heartbeat': '3', 'tabby.dev/unrelated': 'x' });
    await sleep(60);
    expect(seen).toHaveLength(1);
    // Only tabby's BGP annotations are kept.
    expect(last().nodes[0]?.annotations).toEqual({ [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.1' });
    // A BGP annotation, a label, an address: each is a change.
    await ds.annotateNode('n2', { [NODE_BGP_ANNOTATIONS.asn]: '65002' });
    await until(() => seen.length === 2);
    expect(last().nodes[1]?.annotations).toEqual({
      [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.2',
      [NODE_BGP_ANNOTATIONS.asn]: '65002',
    });
    ds.setNodeInfo('n2', {
      labels: { rack: 'r2' },
      annotations: { [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.2', [NODE_BGP_ANNOTATIONS.asn]: '65002' },
    });
    await until(() => seen.length === 3);
    expect(last().nodes[1]?.labels).toEqual({ rack: 'r2' });
    ds.setNodeInfo('n2', {
      labels: { rack: 'r2' },
      annotations: { [NODE_BGP_ANNOTATIONS.ipv4]: '10.0.0.2', [NODE_BGP_ANNOTATIONS.asn]: '65002' },
      addresses: [{ type: 'InternalIP', address: '192.168.0.2' }],
    });
    await until(() => seen.length === 4);
    expect(last().nodes[1]?.addresses).toEqual([{ type: 'InternalIP', address: '192.168.0.2' }]);
  });

  it('refresh gives a just-confirmed block at once', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    const { s } = source(ds, { debounceMs: 10_000 });
    await s.start();
    const a2 = (await ds.blockAffinities.get('a2'))!;
    await ds.blockAffinities.update({ ...a2, spec: { ...a2.spec, state: 'confirmed' } });
    const started = Date.now();
    const inputs = await s.refresh();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(inputs?.affineBlocks).toEqual(['10.244.1.0/30', '10.244.1.4/30']);
  });

  it('re-reads Secrets periodically and reports unreadable ones', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    const read = ds.readSecretKey;
    ds.readSecretKey = async (ns, name, key) => {
      if (name === 'locked') throw new DatastoreError('Forbidden', 'get Secret x/locked: forbidden', 403);
      return read(ns, name, key);
    };
    ds.setSecret('tabby-system', 'bgp', { k: 'one' });
    await ds.bgpPeers.create({
      metadata: { name: 'p1' },
      spec: {
        peerIP: '10.0.0.254',
        asNumber: 1,
        password: { namespace: 'tabby-system', name: 'bgp', key: 'k' },
      },
    });
    await ds.bgpPeers.create({
      metadata: { name: 'p2' },
      spec: { peerIP: '10.0.0.253', asNumber: 1, password: { namespace: 'x', name: 'locked', key: 'k' } },
    });
    const { s, last } = source(ds, { secretRefreshMs: 20 });
    await s.start();
    expect(last().secrets.get('tabby-system/bgp/k')).toBe('one');
    expect(last().secretErrors).toEqual(new Map([['x/locked/k', 'get Secret x/locked: forbidden']]));
    ds.setSecret('tabby-system', 'bgp', { k: 'two' });
    await until(() => last().secrets.get('tabby-system/bgp/k') === 'two');
  });

  it('a failed re-read keeps the last good value; only a NotFound takes it away', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    const read = ds.readSecretKey;
    let failure: Error | undefined;
    let reads = 0;
    ds.readSecretKey = async (ns, name, key) => {
      reads += 1;
      if (failure) throw failure;
      return read(ns, name, key);
    };
    ds.setSecret('tabby-system', 'bgp', { mesh: 'm3sh', tor: 's3cret' });
    const ref = (key: string) => ({ namespace: 'tabby-system', name: 'bgp', key });
    await ds.bgpConfigurations.update({
      ...(await ds.bgpConfigurations.get('default'))!,
      spec: { asNumber: 65000, meshPassword: ref('mesh') },
    });
    await ds.bgpPeers.create({
      metadata: { name: 'tor' },
      spec: { peerIP: '10.0.0.254', asNumber: 65100, password: ref('tor') },
    });
    const { s, seen, last, entries } = source(ds, { secretRefreshMs: 10 });
    await s.start();
    const good = new Map([
      ['tabby-system/bgp/mesh', 'm3sh'],
      ['tabby-system/bgp/tor', 's3cret'],
    ]);
    expect(last().secrets).toEqual(good);
    const count = seen.length;

    // The API server times out, then refuses: the passwords stay, nothing is given.
    for (const e of [
      new DatastoreError('Unavailable', 'get Secret tabby-system/bgp: timeout', 504),
      new DatastoreError('Forbidden', 'get Secret tabby-system/bgp: forbidden', 403),
      new Error('socket hang up'),
    ]) {
      failure = e;
      const before = reads;
      await until(() => reads >= before + 4); // two periodic re-reads of both keys
      expect(entries.some((l) => l.level === 'warn' && JSON.stringify(l).includes(e.message))).toBe(true);
    }
    await sleep(30);
    expect(seen).toHaveLength(count);
    expect(s.current()?.secrets).toEqual(good);
    expect(s.current()?.secretErrors).toBeUndefined();
    // So the sessions stay: the ToR and the mesh, with their passwords.
    const { desired } = computeDesiredBgp(s.current()!);
    expect(desired?.peers.map((p) => `${p.address} ${p.password}`)).toEqual([
      '10.0.0.2 m3sh',
      '10.0.0.254 s3cret',
    ]);
    expect(JSON.stringify(entries)).not.toContain('s3cret');
    expect(JSON.stringify(entries)).not.toContain('m3sh');

    // Back: a rotated password arrives.
    failure = undefined;
    ds.setSecret('tabby-system', 'bgp', { mesh: 'm3sh', tor: 'rotated' });
    await until(() => last().secrets.get('tabby-system/bgp/tor') === 'rotated');

    // A key really gone (NotFound): missing, the peer is then left out by desired.
    ds.setSecret('tabby-system', 'bgp', { mesh: 'm3sh' });
    await until(() => !last().secrets.has('tabby-system/bgp/tor'));
    expect(last().secretErrors).toBeUndefined();
    // The whole Secret gone, as a NotFound error from the store: missing too.
    failure = new DatastoreError('NotFound', 'get Secret tabby-system/bgp: not found', 404);
    await until(() => last().secrets.size === 0);
    expect(last().secretErrors).toBeUndefined();
  });

  it('a Secret never read successfully is missing, with the error', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    ds.readSecretKey = async () => {
      throw new DatastoreError('Unavailable', 'get Secret tabby-system/bgp: timeout', 504);
    };
    await ds.bgpPeers.create({
      metadata: { name: 'tor' },
      spec: {
        peerIP: '10.0.0.254',
        asNumber: 65100,
        password: { namespace: 'tabby-system', name: 'bgp', key: 'tor' },
      },
    });
    const { s } = source(ds);
    const first = await s.start();
    expect(first?.secrets).toEqual(new Map());
    expect(first?.secretErrors).toEqual(
      new Map([['tabby-system/bgp/tor', 'get Secret tabby-system/bgp: timeout']]),
    );
  });

  it('lists again after a watch ends and catches up', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    // Watches on BGPPeers that the test can cut (events stop, done resolves with an error).
    const cuts: ((e: Error) => void)[] = [];
    const watch = ds.bgpPeers.watch.bind(ds.bgpPeers);
    ds.bgpPeers.watch = async (onEvent, options): Promise<Watch> => {
      let live = true;
      const inner = await watch((e) => live && onEvent(e), options);
      let cut: (e: Error) => void = () => {};
      const done = Promise.race([inner.done, new Promise<Error>((r) => (cut = r))]);
      cuts.push((e) => {
        live = false;
        cut(e);
      });
      return { done, stop: () => inner.stop() };
    };
    const { s, last, entries } = source(ds);
    await s.start();
    cuts[0]?.(new DatastoreError('Unavailable', 'connection reset'));
    await ds.bgpPeers.create({ metadata: { name: 'late' }, spec: { peerIP: '10.0.0.254', asNumber: 1 } });
    await until(() => last().peers.length === 1);
    expect(cuts.length).toBe(2);
    expect(entries.some((e) => e.level === 'warn')).toBe(true);
  });

  it('nothing after stop; start resolves undefined when stopped first', async () => {
    const ds = memoryDatastore();
    await seed(ds);
    const { s, seen } = source(ds);
    await s.start();
    await s.stop();
    const count = seen.length;
    await ds.bgpPeers.create({ metadata: { name: 'p' }, spec: { peerIP: '10.0.0.254', asNumber: 1 } });
    await sleep(30);
    expect(seen).toHaveLength(count);

    const never = source(ds);
    ds.listNodeInfos = () => new Promise(() => {}); // the first list never answers
    const started = never.s.start();
    await never.s.stop();
    expect(await started).toBeUndefined();
    expect(never.seen).toEqual([]);
  });
});

describe('borrowedIn', () => {
  it("splits addresses held by other nodes into this node's and the rest", () => {
    expect(borrowedIn(block('10.244.2.0/30', 'n2', ['n1', 'n2', 'n3', undefined]), 'n1')).toEqual({
      here: ['10.244.2.0'],
      elsewhere: ['10.244.2.2'],
    });
    expect(borrowedIn(block('fd00::/126', undefined, [undefined, 'n1']), 'n1')).toEqual({
      here: ['fd00::1'],
      elsewhere: [],
    });
    expect(borrowedIn(block('10.244.2.0/30', 'n2', ['n2', 'n2']), 'n1')).toBeUndefined();
    expect(borrowedIn(block('bad', 'n2', ['n1']), 'n1')).toBeUndefined();
  });
});
