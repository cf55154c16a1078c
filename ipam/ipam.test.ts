import { beforeEach, describe, expect, it } from 'vitest';
import { cidrContains, parseCidr } from '../common/addr.js';
import { countingDatastore } from '../datastore/counting.js';
import { DatastoreError } from '../datastore/errors.js';
import { type MemoryDatastore, memoryDatastore } from '../datastore/memory.js';
import type { IPAMConfigSpec, IPPoolSpec } from '../datastore/resources.js';
import { isIpamError } from './errors.js';
import { Ipam } from './ipam.js';

let ds: MemoryDatastore;
let clock: number;
let ipam: Ipam;
const FAST = { attempts: 8, baseMs: 0, maxMs: 1 };

const pool = (name: string, spec: IPPoolSpec) => ds.ipPools.create({ metadata: { name }, spec });
const config = (spec: IPAMConfigSpec) => ds.ipamConfigs.create({ metadata: { name: 'default' }, spec });
const v4 = async (handle: string, node = 'node1') => {
  const r = await ipam.assign(handle, node, { v4: 1 });
  return r.addresses[0]?.address as string;
};
const rejection = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
};

beforeEach(() => {
  ds = memoryDatastore({ node1: { rack: 'a' }, node2: { rack: 'b' } });
  clock = Date.parse('2026-11-21T00:00:00Z');
  ipam = new Ipam(ds, { now: () => clock, retry: FAST });
});

describe('repeated releases', () => {
  it('a second release of a handle this instance released costs nothing; an assign in between undoes that', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    const counted = countingDatastore(ds);
    const agent = new Ipam(counted, { now: () => clock, retry: FAST });
    const a = (await agent.assign('h', 'node1', { v4: 1 })).addresses[0]?.address;
    expect((await agent.releaseByHandle('h', 'node1')).released).toEqual([a]);
    const before = counted.counts();
    expect((await agent.releaseByHandle('h', 'node1')).released).toEqual([]);
    expect(counted.counts()).toEqual(before); // no write (nor the reads of a block search)
    const b = (await agent.assign('h', 'node1', { v4: 1 })).addresses[0]?.address;
    expect((await agent.releaseByHandle('h', 'node1')).released).toEqual([b]);
  });

  it('an assign submitted while a release is in flight is never skipped by the next release', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    await ipam.assign('h', 'node1', { v4: 1 });
    const releasing = ipam.releaseByHandle('h', 'node1');
    const again = ipam.assign('h', 'node1', { v4: 1 });
    await releasing;
    const b = (await again).addresses[0]?.address;
    expect((await ipam.releaseByHandle('h', 'node1')).released).toEqual([b]);
  });
});

describe('assign', () => {
  it('re-reads stale cached affinities before claiming, instead of claiming a second block', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    const first = await v4('h0');
    // A cache that has not seen the node's claim yet: the cached list comes back empty.
    const affinities = ds.blockAffinities;
    const stale = {
      ...ds,
      blockAffinities: {
        ...affinities,
        kind: affinities.kind,
        get: affinities.get.bind(affinities),
        create: affinities.create.bind(affinities),
        update: affinities.update.bind(affinities),
        delete: affinities.delete.bind(affinities),
        watch: affinities.watch.bind(affinities),
        list: async (labels?: Record<string, string>, options?: { cached?: boolean }) =>
          options?.cached ? { items: [], resourceVersion: '0' } : affinities.list(labels),
      },
    };
    const second = await new Ipam(stale, { now: () => clock, retry: FAST }).assign('h1', 'node1', { v4: 1 });
    expect(second.addresses[0]?.block).toBe(
      (await ipam.addressesOf('h0', 'node1')).find((a) => a.address === first)?.block,
    );
    expect((await ds.blockAffinities.list()).items).toHaveLength(1);
  });

  it('hands out a claimed block in order, then claims the next block', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    const first = await ipam.assign('h0', 'node1', { v4: 1, attrs: { namespace: 'ns', pod: 'p0' } });
    const block = parseCidr(first.addresses[0]?.block as string);
    expect(block.prefixLength).toBe(26);
    expect(first.addresses[0]?.address).toBe(block.network);
    const next = [];
    for (let i = 1; i < 64; i++) next.push(await v4(`h${i}`));
    expect(new Set(next).size).toBe(63);
    expect(next.every((a) => cidrContains(block, a))).toBe(true);
    const spill = await ipam.assign('h64', 'node1', { v4: 1 });
    expect(spill.addresses[0]?.block).not.toBe(first.addresses[0]?.block);
    const affinities = (await ds.blockAffinities.list()).items;
    expect(affinities.map((a) => [a.spec.node, a.spec.state])).toEqual([
      ['node1', 'confirmed'],
      ['node1', 'confirmed'],
    ]);
    const blockObj = (await ds.ipamBlocks.list()).items.find(
      (b) => b.spec.cidr === first.addresses[0]?.block,
    );
    expect(blockObj?.spec.affinity).toBe('node1');
    expect(blockObj?.spec.attributes[0]).toMatchObject({
      handle: 'h0',
      namespace: 'ns',
      pod: 'p0',
      node: 'node1',
    });
  });

  it('returns the same addresses for a retried handle', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    const a = await ipam.assign('h', 'node1', { v4: 1 });
    const b = await ipam.assign('h', 'node1', { v4: 1 });
    expect(b).toEqual({ ...a, existing: true });
  });

  it('gives a burst of 100 concurrent requests distinct addresses with few writes', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    let writes = 0;
    ds.setBeforeWrite(() => {
      writes++;
    });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => v4(`burst-${i}`)));
    expect(new Set(results).size).toBe(100);
    expect(writes / 100).toBeLessThan(0.5);
  });

  it('borrows from another node when it may claim no more blocks, unless strictAffinity', async () => {
    await pool('small', { cidr: '10.244.0.0/25' }); // two /26 blocks
    await config({ maxBlocksPerNode: 1 });
    await v4('n2', 'node2');
    for (let i = 0; i < 64; i++) await v4(`n1-${i}`);
    const borrowed = await ipam.assign('borrower', 'node1', { v4: 1 });
    const node2Block = (await ds.blockAffinities.list()).items.find((a) => a.spec.node === 'node2');
    expect(borrowed.addresses[0]?.block).toBe(node2Block?.spec.cidr);

    const cfg = await ds.ipamConfigs.get('default');
    await ds.ipamConfigs.update({ ...cfg!, spec: { maxBlocksPerNode: 1, strictAffinity: true } });
    const e = await rejection(ipam.assign('strict', 'node1', { v4: 1 }));
    expect(isIpamError(e, 'PoolExhausted')).toBe(true);
    expect((e as Error).message).toMatch(/small \(10\.244\.0\.0\/25\).*strictAffinity/);
  });

  it('fails with a message naming the pool when it is exhausted, and allocates nothing', async () => {
    await pool('tiny', { cidr: '10.244.0.0/30', blockSize: 30 });
    for (let i = 0; i < 4; i++) await v4(`t${i}`);
    const e = await rejection(ipam.assign('dual', 'node1', { v4: 1 }));
    expect(isIpamError(e, 'PoolExhausted')).toBe(true);
    expect((e as Error).message).toContain('IPPool tiny (10.244.0.0/30)');
    expect((await ds.ipamHandles.get('node1'))?.spec.handles.dual).toBeUndefined();
  });

  it('keeps a released address out of use for the cooldown', async () => {
    await pool('tiny', { cidr: '10.244.0.0/30', blockSize: 30 });
    await config({ cooldownSeconds: 60 });
    const addrs = [];
    for (let i = 0; i < 4; i++) addrs.push(await v4(`t${i}`));
    await ipam.releaseByHandle('t1', 'node1');
    expect(isIpamError(await rejection(v4('again')), 'PoolExhausted')).toBe(true);
    clock += 61_000;
    expect(await v4('again')).toBe(addrs[1]);
  });

  it('serves IPv6 pools and dual-stack requests', async () => {
    await pool('v4', { cidr: '10.244.0.0/16' });
    await pool('v6', { cidr: 'fd00:10:244::/56' });
    const r = await ipam.assign('dual', 'node1', { v4: 1, v6: 1 });
    expect(r.addresses.map((a) => a.family).sort()).toEqual([4, 6]);
    const v6 = r.addresses.find((a) => a.family === 6);
    expect(parseCidr(v6?.block as string).prefixLength).toBe(122);
    expect(cidrContains(parseCidr('fd00:10:244::/56'), v6?.address as string)).toBe(true);
  });

  it('gives a requested address once, and names the holder when asked again', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    const r = await ipam.assign('s', 'node1', { ip: '10.244.7.9' });
    expect(r.addresses).toEqual([{ family: 4, address: '10.244.7.9', block: '10.244.7.0/26' }]);
    const e = await rejection(ipam.assign('other', 'node2', { ip: '10.244.7.9' }));
    expect(isIpamError(e, 'AddressInUse')).toBe(true);
    expect((e as Error).message).toContain('handle s');
    expect(
      isIpamError(await rejection(ipam.assign('x', 'node1', { ip: '192.0.2.1' })), 'AddressNotInPool'),
    ).toBe(true);
  });

  it('chooses pools by node selector and ignores disabled and overlapping ones', async () => {
    await pool('rack-a', { cidr: '10.244.0.0/20', nodeSelector: { matchLabels: { rack: 'a' } } });
    await pool('rack-b', {
      cidr: '10.244.16.0/20',
      nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'In', values: ['b'] }] },
    });
    await pool('off', { cidr: '10.245.0.0/16', disabled: true });
    await pool('z-overlap', { cidr: '10.244.0.0/16' }); // same creation second: name order decides
    expect(cidrContains(parseCidr('10.244.0.0/20'), await v4('a', 'node1'))).toBe(true);
    expect(cidrContains(parseCidr('10.244.16.0/20'), await v4('b', 'node2'))).toBe(true);
    ds.setNode('node3', { rack: 'c' });
    const e = await rejection(v4('c', 'node3'));
    expect(isIpamError(e, 'NoPool')).toBe(true);
    expect((e as Error).message).toMatch(/selects node node3/);
  });

  it('rejects malformed requests naming the field', async () => {
    for (const [opts, field] of [
      [{ v4: -1 }, 'v4'],
      [{ v6: 1.5 }, 'v6'],
      [{}, 'v4/v6/ip'],
      [{ ip: '10.1' }, 'ip[0]'],
    ] as const) {
      const e = await rejection(ipam.assign('h', 'node1', opts));
      expect(isIpamError(e, 'InvalidArgument')).toBe(true);
      expect((e as Error).message.startsWith(`${field}:`)).toBe(true);
    }
  });

  it('retries a block write that lost a race, and loses nothing', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    const rival = new Ipam(ds, { retry: FAST });
    await v4('warm'); // node1 owns a block now
    let raced = false;
    ds.setBeforeWrite(async (op, kind) => {
      if (!raced && op === 'update' && kind === 'IPAMBlock') {
        raced = true;
        await rival.assign('rival', 'node1', { v4: 1 }); // a second agent writes the same block first
      }
    });
    const mine = await v4('mine');
    const theirs = (await rival.assign('rival', 'node1', { v4: 1 })).addresses[0]?.address;
    expect(raced).toBe(true);
    expect(mine).not.toBe(theirs);
    const handles = (await ds.ipamHandles.get('node1'))?.spec.handles ?? {};
    expect(Object.keys(handles).sort()).toEqual(['mine', 'rival', 'warm']);
  });

  it('gives up with Contention when every write conflicts', async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
    await v4('warm');
    ds.setBeforeWrite((op, kind) => {
      if (op === 'update' && kind === 'IPAMBlock') throw new DatastoreError('Conflict', 'forced', 409);
    });
    expect(isIpamError(await rejection(v4('doomed')), 'Contention')).toBe(true);
  });
});

describe('release', () => {
  beforeEach(async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
  });

  it('is idempotent and forgets the handle', async () => {
    const a = await v4('h');
    expect(await ipam.releaseByHandle('h', 'node1')).toEqual({ handle: 'h', released: [a] });
    expect(await ipam.releaseByHandle('h', 'node1')).toEqual({ handle: 'h', released: [] });
    expect(await ipam.releaseByHandle('never', 'node1')).toEqual({ handle: 'never', released: [] });
    expect(await ipam.releaseByHandle('never')).toEqual({ handle: 'never', released: [] });
    expect((await ds.ipamHandles.get('node1'))?.spec.handles).toEqual({});
  });

  it('finds the handle without being told the node', async () => {
    const a = await v4('h', 'node2');
    expect(await ipam.releaseByHandle('h')).toEqual({ handle: 'h', released: [a] });
  });

  it('releases one address only when it is still the expected allocation', async () => {
    const a = await v4('h');
    expect(await ipam.releaseIP(a, { handle: 'someone-else' })).toBeUndefined();
    const freed = await ipam.releaseIP(a, { handle: 'h' });
    expect(freed?.attributes.handle).toBe('h');
    expect((await ds.ipamHandles.get('node1'))?.spec.handles.h).toBeUndefined();
    expect(await ipam.releaseIP(a)).toBeUndefined();
  });
});

describe('one handle twice in a burst', () => {
  beforeEach(async () => {
    await pool('default', { cidr: '10.244.0.0/16' });
  });

  it('answers duplicate assigns with one allocation', async () => {
    const [a, b] = await Promise.all([
      ipam.assign('dup', 'node1', { v4: 1 }),
      ipam.assign('dup', 'node1', { v4: 1 }),
    ]);
    expect(b?.addresses).toEqual(a?.addresses);
    expect(b?.existing).toBe(true);
    const held = (await ds.ipamBlocks.list()).items.flatMap((x) => x.spec.attributes.map((at) => at.handle));
    expect(held).toEqual(['dup']);
  });

  it('keeps an ADD then DEL of one handle in order', async () => {
    const [added, released] = await Promise.all([
      ipam.assign('flash', 'node1', { v4: 1 }),
      ipam.releaseByHandle('flash', 'node1'),
    ]);
    expect(released.released).toEqual(added.addresses.map((a) => a.address));
    expect((await ds.ipamBlocks.list()).items.flatMap((x) => x.spec.attributes)).toEqual([]);
  });

  it('allocates afresh for a handle whose index entry has nothing behind it', async () => {
    const first = await v4('ghost');
    const block = (await ds.ipamBlocks.list()).items[0];
    // The block lost the allocation (e.g. rolled back after an index write that timed out).
    await ds.ipamBlocks.update({
      ...block!,
      spec: {
        ...block!.spec,
        allocations: block!.spec.allocations.map(() => null),
        attributes: [],
        free: block!.spec.allocations.map((_, ordinal) => ({ ordinal })),
      },
    });
    const again = await ipam.assign('ghost', 'node1', { v4: 1 });
    expect(again.existing).toBe(false);
    expect(again.addresses).toHaveLength(1);
    expect(first).toBeDefined();
    expect((await ds.ipamHandles.get('node1'))?.spec.handles.ghost?.blocks).toEqual({
      [block!.spec.cidr]: 1,
    });
  });
});

describe('limits and named pools', () => {
  it('counts maxBlocksPerNode per family', async () => {
    await pool('v4', { cidr: '10.244.0.0/16' });
    await pool('v6', { cidr: 'fd00:10:244::/56' });
    await config({ maxBlocksPerNode: 1 });
    const r = await ipam.assign('dual', 'node1', { v4: 1, v6: 1 });
    expect(r.addresses.map((a) => a.family).sort()).toEqual([4, 6]);
  });

  it('refuses pool names of the wrong family, or two of one family', async () => {
    await pool('v4', { cidr: '10.244.0.0/16' });
    await pool('v4b', { cidr: '10.245.0.0/16' });
    await pool('v6', { cidr: 'fd00:10:244::/56' });
    const wrong = await rejection(ipam.assign('h', 'node1', { v4: 1, pool: 'v6' }));
    expect(isIpamError(wrong, 'InvalidArgument')).toBe(true);
    expect((wrong as Error).message).toMatch(/^pool\[0\]: v6 is an IPv6 pool/);
    const two = await rejection(ipam.assign('h', 'node1', { v4: 1, pool: ['v4', 'v4b'] }));
    expect((two as Error).message).toMatch(/^pool\[1\]: a second IPv4 pool/);
    const named = await ipam.assign('h', 'node1', { v4: 1, pool: '10.245.0.0/16' });
    expect(cidrContains(parseCidr('10.245.0.0/16'), named.addresses[0]?.address as string)).toBe(true);
  });

  it('does not give a specific address from a disabled pool', async () => {
    await pool('off', { cidr: '10.244.0.0/16', disabled: true });
    const e = await rejection(ipam.assign('s', 'node1', { ip: '10.244.0.5' }));
    expect((e as Error).message).toBe('10.244.0.5: IPPool off is disabled');
  });

  it('resumes its own half-done claim instead of leaking it', async () => {
    await pool('tiny', { cidr: '10.244.0.0/26' }); // a single block
    await config({ maxBlocksPerNode: 1 });
    let failOnce = true;
    ds.setBeforeWrite((op, kind) => {
      if (failOnce && op === 'create' && kind === 'IPAMBlock') {
        failOnce = false;
        throw new DatastoreError('Unavailable', 'API server went away', 503);
      }
    });
    expect(await rejection(v4('first'))).toMatchObject({ reason: 'Unavailable' });
    expect((await ds.blockAffinities.list()).items.map((a) => a.spec.state)).toEqual(['pending']);
    expect(cidrContains(parseCidr('10.244.0.0/26'), await v4('second'))).toBe(true);
    expect((await ds.blockAffinities.list()).items.map((a) => a.spec.state)).toEqual(['confirmed']);
  });
});
