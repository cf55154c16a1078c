// The semantics every Datastore shares (datastore/datastore.ts), as one suite run against each
// implementation: memory (datastore/memory.test.ts) and the Kubernetes API server
// (test/integration/datastore-kubernetes.test.ts).
//
// A Kubernetes store may be shared with other tests writing IPAM objects at the same time, so
// this suite never assumes a collection is empty: every object has a
// name unique to this run and the run's label, lists filter by that label, and every object
// created is deleted again. Pools are disabled and select no node, blocks lie in 198.18.0.0/15
// (benchmarking range) and belong to no real node, so no allocator picks them up meanwhile.
// IPAMConfig and BGPConfiguration are only ever read, updated and deleted under names that do not
// exist: the API server accepts just one, `default`, and other tests own it. BGPPeers name a node
// that does not exist, so no running agent peers with them. Nodes and Secrets are made through
// the implementation's own fixtures (the Datastore only reads them), named uniquely too.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Datastore, NodeWatchEvent, ResourceStore, WatchEvent } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import type { BGPPeerSpec, IPAMBlockSpec, IPPoolSpec, NodeInfo, Resource } from '../datastore/resources.js';

const RUN_LABEL = 'tabby.dev/contract-run';

/** Resolves with the rejection of `p` (fails when `p` resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Polls `cond` until it holds (watch events arrive asynchronously). */
export async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the Datastore only reads, made by the implementation's own means. */
export interface ContractFixtures {
  /** Creates a Node with its labels, annotations and status addresses. */
  createNode(node: NodeInfo): Promise<void>;
  deleteNode(name: string): Promise<void>;
  /** Creates (or replaces) a Secret with these keys, given decoded. */
  putSecret(namespace: string, name: string, data: Record<string, string>): Promise<void>;
  deleteSecret(namespace: string, name: string): Promise<void>;
}

export interface ContractOptions {
  cleanup?: (ds: Datastore) => Promise<void>;
  fixtures: (ds: Datastore) => ContractFixtures;
  /** A namespace that exists, for the Secrets. */
  secretNamespace?: string;
}

export function describeDatastoreContract(
  name: string,
  makeDatastore: () => Promise<Datastore>,
  options: ContractOptions,
): void {
  const cleanup = options.cleanup ?? ((ds: Datastore) => ds.close());
  describe(`Datastore contract: ${name}`, () => {
    const run = randomBytes(4).toString('hex');
    const labels = { [RUN_LABEL]: run };
    let ds: Datastore;
    let seq = 0;
    const created: [ResourceStore<unknown>, string][] = [];

    const uniq = (prefix: string) => `ct-${prefix}-${run}-${++seq}`;
    const poolSpec = (): IPPoolSpec => ({
      cidr: `198.19.${seq % 256}.0/24`,
      blockSize: 26,
      disabled: true,
      nodeSelector: { matchLabels: { [RUN_LABEL]: 'no-such-node' } },
    });
    const blockSpec = (): IPAMBlockSpec => ({
      cidr: `198.18.${seq % 256}.${(seq % 4) * 64}/26`,
      affinity: `ct-node-${run}`,
      allocations: [null, 0, null, null],
      attributes: [{ handle: `h-${run}`, namespace: 'ns', pod: 'p', node: `ct-node-${run}`, sequence: 1 }],
      free: [{ ordinal: 0, releasedAt: '2026-11-21T00:00:00Z' }, { ordinal: 2 }, { ordinal: 3 }],
      sequence: 1,
    });
    async function make<S>(store: ResourceStore<S>, spec: S, extra: Record<string, string> = {}) {
      const obj = await store.create({
        metadata: { name: uniq('o'), labels: { ...labels, ...extra } },
        spec,
      });
      created.push([store as ResourceStore<unknown>, obj.metadata.name]);
      return obj;
    }
    const pool = (extra?: Record<string, string>) => make(ds.ipPools, poolSpec(), extra);

    beforeAll(async () => {
      ds = await makeDatastore();
    });
    afterEach(async () => {
      for (const [store, n] of created.splice(0)) {
        await store.delete(n).catch((e: unknown) => {
          if (!isDatastoreError(e, 'NotFound')) throw e;
        });
      }
    });
    afterAll(async () => {
      if (ds) await cleanup(ds);
    });

    it('create stores the object and returns it with store-assigned metadata', async () => {
      const spec = blockSpec();
      const b = await make(ds.ipamBlocks, spec);
      expect(b.spec).toEqual(spec);
      expect(b.metadata).toMatchObject({ labels });
      expect(b.metadata.resourceVersion).toMatch(/\S/);
      expect(b.metadata.uid).toMatch(/\S/);
      expect(Number.isNaN(Date.parse(b.metadata.creationTimestamp ?? ''))).toBe(false);
      expect(await ds.ipamBlocks.get(b.metadata.name)).toEqual(b);
      const h = await make(ds.ipamHandles, {
        node: `ct-node-${run}`,
        handles: { [`h-${run}`]: { blocks: { [spec.cidr]: 1 } } },
      });
      expect((await ds.ipamHandles.get(h.metadata.name))?.spec).toEqual(h.spec);
    });

    it('create of a taken name fails with AlreadyExists and changes nothing', async () => {
      const p = await pool();
      const e = await rejection(
        ds.ipPools.create({ metadata: p.metadata, spec: { ...p.spec, disabled: false } }),
      );
      expect(isDatastoreError(e, 'AlreadyExists')).toBe(true);
      expect(await ds.ipPools.get(p.metadata.name)).toEqual(p);
    });

    it('get of a missing object is undefined', async () => {
      expect(await ds.ipPools.get(uniq('missing'))).toBeUndefined();
      expect(await ds.ipamConfigs.get(uniq('missing'))).toBeUndefined();
    });

    it('update with a stale resourceVersion fails with Conflict and leaves the object as it was', async () => {
      const b = await make(ds.ipamBlocks, blockSpec());
      const moved = await ds.ipamBlocks.update({ ...b, spec: { ...b.spec, sequence: 2 } });
      expect(moved.metadata.resourceVersion).not.toBe(b.metadata.resourceVersion);
      expect(moved.metadata.uid).toBe(b.metadata.uid);
      const e = await rejection(ds.ipamBlocks.update({ ...b, spec: { ...b.spec, sequence: 3 } }));
      expect(isDatastoreError(e, 'Conflict')).toBe(true);
      expect(await ds.ipamBlocks.get(b.metadata.name)).toEqual(moved);
    });

    it('update without a resourceVersion is refused (Invalid)', async () => {
      const p = await pool();
      const { resourceVersion: _, ...metadata } = p.metadata;
      expect(isDatastoreError(await rejection(ds.ipPools.update({ ...p, metadata })), 'Invalid')).toBe(true);
    });

    it('update of a deleted or never created object fails with NotFound', async () => {
      const p = await pool();
      await ds.ipPools.delete(p.metadata.name);
      const e = await rejection(ds.ipPools.update({ ...p, spec: { ...p.spec, disabled: false } }));
      expect(isDatastoreError(e, 'NotFound')).toBe(true);
      const ghost = {
        metadata: { name: uniq('ghost'), resourceVersion: p.metadata.resourceVersion },
        spec: {},
      };
      expect(isDatastoreError(await rejection(ds.ipamConfigs.update(ghost)), 'NotFound')).toBe(true);
    });

    it('delete checks its preconditions (Conflict) and deletes', async () => {
      const p = await pool();
      const moved = await ds.ipPools.update({ ...p, spec: { ...p.spec, disabled: false } });
      const stale = await rejection(
        ds.ipPools.delete(p.metadata.name, { resourceVersion: p.metadata.resourceVersion }),
      );
      expect(isDatastoreError(stale, 'Conflict')).toBe(true);
      const wrongUid = await rejection(ds.ipPools.delete(p.metadata.name, { uid: `${p.metadata.uid}x` }));
      expect(isDatastoreError(wrongUid, 'Conflict')).toBe(true);
      expect(await ds.ipPools.get(p.metadata.name)).toEqual(moved);
      await ds.ipPools.delete(p.metadata.name, {
        resourceVersion: moved.metadata.resourceVersion,
        uid: p.metadata.uid,
      });
      expect(await ds.ipPools.get(p.metadata.name)).toBeUndefined();
    });

    it('delete of a missing object fails with NotFound', async () => {
      expect(isDatastoreError(await rejection(ds.ipPools.delete(uniq('missing'))), 'NotFound')).toBe(true);
      expect(isDatastoreError(await rejection(ds.ipamConfigs.delete(uniq('missing'))), 'NotFound')).toBe(
        true,
      );
    });

    it('list returns the objects carrying every given label', async () => {
      const a = await pool({ 'tabby.dev/color': 'red' });
      const b = await pool({ 'tabby.dev/color': 'red' });
      const c = await pool({ 'tabby.dev/color': 'blue' });
      const names = (items: Resource<unknown>[]) => items.map((o) => o.metadata.name).sort();
      expect(names((await ds.ipPools.list(labels)).items)).toEqual(names([a, b, c]));
      const red = await ds.ipPools.list({ ...labels, 'tabby.dev/color': 'red' });
      expect(names(red.items)).toEqual(names([a, b]));
      expect(red.items.find((o) => o.metadata.name === a.metadata.name)).toEqual(a);
      expect(red.resourceVersion).toMatch(/\S/);
      const all = names((await ds.ipPools.list()).items);
      for (const n of names([a, b, c])) expect(all).toContain(n);
      expect((await ds.ipPools.list({ [RUN_LABEL]: `${run}-none` })).items).toEqual([]);
    });

    it("watch from a list's resourceVersion sees every later change in order, nothing after stop", async () => {
      const start = await ds.ipamBlocks.list(labels);
      const b = await make(ds.ipamBlocks, blockSpec()); // before the watch opens: replayed
      const events: WatchEvent<IPAMBlockSpec>[] = [];
      const w = await ds.ipamBlocks.watch((e) => events.push(e), {
        resourceVersion: start.resourceVersion,
        labels,
      });
      const u = await ds.ipamBlocks.update({ ...b, spec: { ...b.spec, sequence: 7 } });
      await ds.ipamBlocks.delete(b.metadata.name);
      await until(() => events.length >= 3);
      expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
      expect(events[0]?.object).toEqual(b);
      expect(events[1]?.object).toEqual(u);
      expect(events[2]?.object.metadata.name).toBe(b.metadata.name);
      await w.stop();
      expect(await w.done).toBeUndefined();
      await make(ds.ipamBlocks, blockSpec());
      await sleep(300);
      expect(events).toHaveLength(3);
    });

    it('watch without a resourceVersion starts from now and filters by label', async () => {
      const p = await pool();
      const events: WatchEvent<IPPoolSpec>[] = [];
      const w = await ds.ipPools.watch((e) => events.push(e), { labels });
      await pool({ [RUN_LABEL]: `${run}-other` }); // not this watch's label
      const u = await ds.ipPools.update({ ...p, spec: { ...p.spec, disabled: false } });
      await until(() => events.length >= 1);
      await sleep(200);
      expect(events).toEqual([{ type: 'MODIFIED', object: u }]);
      await w.stop();
    });

    it('two concurrent updates from the same read: exactly one wins', async () => {
      const b = await make(ds.ipamBlocks, blockSpec());
      const results = await Promise.allSettled([
        ds.ipamBlocks.update({ ...b, spec: { ...b.spec, sequence: 10 } }),
        ds.ipamBlocks.update({ ...b, spec: { ...b.spec, sequence: 20 } }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(isDatastoreError((lost[0] as PromiseRejectedResult).reason, 'Conflict')).toBe(true);
      const winner = (won[0] as PromiseFulfilledResult<Resource<IPAMBlockSpec>>).value;
      expect(await ds.ipamBlocks.get(b.metadata.name)).toEqual(winner);
    });
    describe('Nodes and Secrets', () => {
      let fx: ContractFixtures;
      const nodes: string[] = [];
      const secrets: string[] = [];
      const ns = options.secretNamespace ?? 'default';
      beforeAll(() => {
        fx = options.fixtures(ds);
      });
      afterEach(async () => {
        for (const n of nodes.splice(0)) await fx.deleteNode(n).catch(() => {});
        for (const n of secrets.splice(0)) await fx.deleteSecret(ns, n).catch(() => {});
      });
      const node = async (info: Omit<NodeInfo, 'name'>): Promise<NodeInfo> => {
        const n = { name: uniq('node'), ...info };
        nodes.push(n.name);
        await fx.createNode(n);
        return n;
      };

      it('listNodeInfos: labels, annotations and addresses; annotateNode merges and removes', async () => {
        const n = await node({
          labels: { ...labels, rack: 'r1' },
          annotations: { 'tabby.dev/bgp-ipv4': '192.0.2.1', 'tabby.dev/keep': 'yes' },
          addresses: [
            { type: 'InternalIP', address: '192.0.2.1' },
            { type: 'InternalIP', address: '2001:db8::1' },
          ],
        });
        const find = async () => (await ds.listNodeInfos()).find((x) => x.name === n.name);
        expect(await find()).toEqual(n);
        expect(await ds.listNodes()).toContain(n.name);
        expect(await ds.nodeLabels(n.name)).toEqual(n.labels);
        expect(
          await ds.annotateNode(n.name, {
            'tabby.dev/bgp-ipv4': '192.0.2.9',
            'tabby.dev/keep': null,
            'tabby.dev/new': 'x',
          }),
        ).toBe(true);
        expect((await find())?.annotations).toEqual({
          'tabby.dev/bgp-ipv4': '192.0.2.9',
          'tabby.dev/new': 'x',
        });
        expect(await ds.annotateNode(uniq('missing'), { a: 'b' })).toBe(false);
      });

      it('watchNodes sees additions, changes and deletions from now on, nothing after stop', async () => {
        const before = await node({ labels, annotations: {}, addresses: [] });
        const events: NodeWatchEvent[] = [];
        const mine = new Set<string>([before.name]);
        const w = await ds.watchNodes((e) => {
          if (mine.has(e.object.name)) events.push(e);
        });
        const name = uniq('node');
        mine.add(name);
        nodes.push(name);
        await fx.createNode({ name, labels, annotations: {}, addresses: [] });
        await ds.annotateNode(before.name, { 'tabby.dev/bgp-ipv4': '192.0.2.2' });
        await fx.deleteNode(name);
        await until(() => events.length >= 3);
        expect(events.map((e) => `${e.type} ${e.object.name}`)).toEqual([
          `ADDED ${name}`,
          `MODIFIED ${before.name}`,
          `DELETED ${name}`,
        ]);
        expect(events[1]?.object.annotations).toEqual({ 'tabby.dev/bgp-ipv4': '192.0.2.2' });
        await w.stop();
        expect(await w.done).toBeUndefined();
        await ds.annotateNode(before.name, { 'tabby.dev/bgp-ipv4': '192.0.2.3' });
        await sleep(300);
        expect(events).toHaveLength(3);
      });

      it('readSecretKey: the decoded value; undefined for a missing key or Secret', async () => {
        const name = uniq('secret');
        secrets.push(name);
        await fx.putSecret(ns, name, { password: 's3cret ü', other: '' });
        expect(await ds.readSecretKey(ns, name, 'password')).toBe('s3cret ü');
        expect(await ds.readSecretKey(ns, name, 'other')).toBe('');
        expect(await ds.readSecretKey(ns, name, 'nope')).toBeUndefined();
        expect(await ds.readSecretKey(ns, uniq('missing'), 'password')).toBeUndefined();
      });
    });

    it('BGPPeer and BGPConfiguration collections', async () => {
      const spec: BGPPeerSpec = {
        node: `ct-node-${run}`,
        peerIP: '192.0.2.254',
        asNumber: 4200000000,
        port: 1179,
        password: { namespace: 'tabby-system', name: 'bgp', key: 'tor' },
        keepaliveTime: 3,
        holdTime: 9,
        gracefulRestart: false,
        ebgpMultihop: 2,
        maxPrefixes: 1000,
        allowedPrefixes: ['198.51.100.0/24', '2001:db8::/32'],
        sourceAddress: '192.0.2.1',
        passive: true,
      };
      const p = await make(ds.bgpPeers, spec);
      expect(await ds.bgpPeers.get(p.metadata.name)).toEqual(p);
      expect((await ds.bgpPeers.list(labels)).items).toEqual([p]);
      const moved = await ds.bgpPeers.update({ ...p, spec: { ...spec, holdTime: 30 } });
      expect((await ds.bgpPeers.get(p.metadata.name))?.spec.holdTime).toBe(30);
      await ds.bgpPeers.delete(p.metadata.name, { resourceVersion: moved.metadata.resourceVersion });
      expect(await ds.bgpPeers.get(p.metadata.name)).toBeUndefined();
      expect(await ds.bgpConfigurations.get(uniq('missing'))).toBeUndefined();
      expect(ds.bgpPeers.kind).toBe('BGPPeer');
      expect(ds.bgpConfigurations.kind).toBe('BGPConfiguration');
    });
  });
}
