import { describe, expect, it } from 'vitest';
import { describeDatastoreContract } from '../test/datastore-contract.js';
import { type MemoryDatastore, memoryDatastore } from './memory.js';

describeDatastoreContract('memory', async () => memoryDatastore(), {
  fixtures: (ds) => {
    const mem = ds as MemoryDatastore;
    return {
      createNode: async ({ name, ...info }) => mem.setNodeInfo(name, info),
      deleteNode: async (name) => mem.setNodeInfo(name, undefined),
      putSecret: async (namespace, name, data) => mem.setSecret(namespace, name, data),
      deleteSecret: async (namespace, name) => mem.setSecret(namespace, name, undefined),
    };
  },
});

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

describe('memory datastore nodes', () => {
  it('seeds nodes with labels; setNode relabels and keeps annotations and addresses', async () => {
    const ds = memoryDatastore({ n1: { rack: 'a' } });
    expect(await ds.listNodeInfos()).toEqual([
      { name: 'n1', labels: { rack: 'a' }, annotations: {}, addresses: [] },
    ]);
    ds.setNodeInfo('n2', {
      annotations: { a: '1' },
      addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
    });
    ds.setNode('n2', { rack: 'b' });
    expect((await ds.listNodeInfos())[1]).toEqual({
      name: 'n2',
      labels: { rack: 'b' },
      annotations: { a: '1' },
      addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
    });
    expect(await ds.listNodes()).toEqual(['n1', 'n2']);
    ds.setNode('n1', undefined);
    expect(await ds.nodeLabels('n1')).toBeUndefined();
    // Returned objects are copies.
    const [n2] = await ds.listNodeInfos();
    if (n2) n2.labels.rack = 'changed';
    expect(await ds.nodeLabels('n2')).toEqual({ rack: 'b' });
  });
});
