import { describe, expect, it } from 'vitest';
import { describeDatastoreContract } from '../test/datastore-contract.js';
import { memoryDatastore } from './memory.js';

describeDatastoreContract('memory', async () => memoryDatastore());

describe('memory datastore watch', () => {
  it('ends the watch with the error an event handler throws', async () => {
    const ds = memoryDatastore();
    const seen: string[] = [];
    const w = await ds.ipPools.watch((e) => {
      seen.push(e.object.metadata.name);
      throw new Error('handler broke');
    });
    await ds.ipPools.create({ metadata: { name: 'a' }, spec: { cidr: '10.0.0.0/16' } });
    await ds.ipPools.create({ metadata: { name: 'b' }, spec: { cidr: '10.1.0.0/16' } });
    expect((await w.done)?.message).toBe('handler broke');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['a']);
  });
});
