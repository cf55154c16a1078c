import { describe, expect, it } from 'vitest';
import { rejection } from '../test/datastore-contract.js';
import { countingDatastore } from './counting.js';
import { isDatastoreError } from './errors.js';
import { memoryDatastore } from './memory.js';

describe('countingDatastore', () => {
  it('counts every write that reaches the inner store, failed ones and conflicts too', async () => {
    const inner = memoryDatastore({ n1: { rack: 'a' } });
    const ds = countingDatastore(inner);
    const p = await ds.ipPools.create({ metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16' } });
    await rejection(ds.ipPools.create({ metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16' } }));
    const u = await ds.ipPools.update({ ...p, spec: { ...p.spec, disabled: true } });
    expect(isDatastoreError(await rejection(ds.ipPools.update(p)), 'Conflict')).toBe(true);
    expect(isDatastoreError(await rejection(ds.ipPools.delete('p', p.metadata)), 'Conflict')).toBe(true);
    await ds.ipPools.delete('p', { resourceVersion: u.metadata.resourceVersion });
    await rejection(ds.ipamBlocks.delete('missing'));
    // Reads and watches are not writes.
    await ds.ipPools.get('p');
    await ds.ipPools.list();
    await (await ds.ipPools.watch(() => {})).stop();
    expect(await ds.nodeLabels('n1')).toEqual({ rack: 'a' });

    expect(ds.writes()).toBe(7);
    expect(ds.conflicts()).toBe(2);
    expect(ds.counts()).toEqual({
      creates: 2,
      updates: 2,
      deletes: 3,
      conflicts: 2,
      alreadyExists: 1,
      failed: 4,
    });
    expect(ds.ipPools.kind).toBe('IPPool');
    ds.reset();
    expect(ds.writes()).toBe(0);
    expect(ds.counts().failed).toBe(0);
  });

  it('writes go to the inner store', async () => {
    const inner = memoryDatastore();
    const ds = countingDatastore(inner);
    await ds.ipamConfigs.create({ metadata: { name: 'default' }, spec: { maxBlocksPerNode: 3 } });
    expect((await inner.ipamConfigs.get('default'))?.spec).toEqual({ maxBlocksPerNode: 3 });
    await ds.close();
  });
});
