import { describe, expect, it } from 'vitest';
import { memoryDatastore } from '../datastore/memory.js';
import { checkIpam } from './check.js';
import { Ipam } from './ipam.js';
import { readSnapshot } from './snapshot.js';

async function populated() {
  const ds = memoryDatastore({ node1: {} });
  await ds.ipPools.create({ metadata: { name: 'default' }, spec: { cidr: '10.244.0.0/16' } });
  const ipam = new Ipam(ds);
  await Promise.all(['a', 'b', 'c'].map((h) => ipam.assign(h, 'node1', { v4: 1 })));
  return { ds, ipam };
}

describe('ipam check', () => {
  it('is clean after allocations and releases', async () => {
    const { ds, ipam } = await populated();
    expect(checkIpam(await readSnapshot(ds))).toMatchObject({
      ok: true,
      blocks: 1,
      allocated: 3,
      handles: 3,
    });
    await ipam.releaseByHandle('b', 'node1');
    expect(checkIpam(await readSnapshot(ds))).toMatchObject({ ok: true, allocated: 2, handles: 2 });
  });

  it('reports each kind of damage', async () => {
    const { ds } = await populated();
    const index = await ds.ipamHandles.get('node1');
    const handles = index?.spec.handles ?? {};
    delete handles.a; // allocation without handle
    handles.ghost = { blocks: { '10.244.99.0/26': 1 } }; // handle pointing at the wrong block
    await ds.ipamHandles.update(index!);
    const [block] = (await ds.ipamBlocks.list()).items;
    await ds.blockAffinities.create({
      metadata: { name: 'second-claim' },
      spec: { node: 'node2', cidr: block!.spec.cidr, state: 'confirmed' },
    });
    await ds.ipPools.create({ metadata: { name: 'z-overlap' }, spec: { cidr: '10.244.0.0/20' } });
    await ds.ipPools.create({ metadata: { name: 'broken' }, spec: { cidr: '10.250.0.1/16' } });
    await ds.ipamBlocks.create({
      metadata: { name: 'stray' },
      spec: { cidr: '192.0.2.0/26', allocations: [null], attributes: [], free: [], sequence: 0 },
    });
    const kinds = checkIpam(await readSnapshot(ds))
      .problems.map((p) => p.kind)
      .sort();
    expect(kinds).toEqual([
      'affinity-mismatch',
      'allocation-without-handle',
      'block-corrupt', // free list of the stray block: ordinal 0 neither free nor allocated
      'block-corrupt', // ... and 1 allocation slot for 64 addresses
      'block-outside-pools',
      'duplicate-affinity',
      'handle-mismatch',
      'pool-invalid',
      'pool-overlap',
    ]);
    // A broken pool is set aside, not fatal: allocation goes on.
    expect((await new Ipam(ds).assign('after', 'node1', { v4: 1 })).addresses).toHaveLength(1);
  });
});
