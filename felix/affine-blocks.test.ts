import { describe, expect, it, vi } from 'vitest';
import { type MemoryDatastore, memoryDatastore } from '../datastore/memory.js';
import { labelsForNode } from '../datastore/names.js';
import type { AffinityState } from '../datastore/resources.js';
import { AffineBlocks } from './affine-blocks.js';

async function affinity(
  ds: MemoryDatastore,
  name: string,
  spec: { node: string; cidr: string; state: AffinityState },
  labelNode = spec.node,
): Promise<void> {
  await ds.blockAffinities.create({ metadata: { name, labels: labelsForNode(labelNode) }, spec });
}

describe('AffineBlocks', () => {
  it('counts only confirmed affinities of this node', async () => {
    const ds = memoryDatastore();
    await affinity(ds, 'a', { node: 'node1', cidr: '10.244.1.0/26', state: 'confirmed' });
    await affinity(ds, 'b', { node: 'node1', cidr: 'fd00:10:244::/122', state: 'confirmed' });
    await affinity(ds, 'c', { node: 'node1', cidr: '10.244.2.0/26', state: 'pending' });
    await affinity(ds, 'd', { node: 'node1', cidr: '10.244.3.0/26', state: 'pendingDeletion' });
    await affinity(ds, 'e', { node: 'node2', cidr: '10.244.4.0/26', state: 'confirmed' });
    // Labelled for node1 but naming node2: the spec decides.
    await affinity(ds, 'f', { node: 'node2', cidr: '10.244.5.0/26', state: 'confirmed' }, 'node1');
    const blocks = new AffineBlocks(ds, 'node1', () => {});
    expect(blocks.current()).toEqual([]);
    await expect(blocks.refresh()).resolves.toEqual(['10.244.1.0/26', 'fd00:10:244::/122']);
    expect(blocks.current()).toEqual(['10.244.1.0/26', 'fd00:10:244::/122']);
    expect(blocks.has('10.244.1.0/26')).toBe(true);
    expect(blocks.has('10.244.2.0/26')).toBe(false);
    expect(blocks.has('10.244.4.0/26')).toBe(false);
    expect(blocks.has('10.244.5.0/26')).toBe(false);
  });

  it('calls onChange only when the set of blocks changes', async () => {
    const ds = memoryDatastore();
    const changes: string[][] = [];
    const blocks = new AffineBlocks(ds, 'node1', (b) => changes.push(b));

    await blocks.refresh(); // empty → empty
    expect(changes).toEqual([]);

    await affinity(ds, 'b', { node: 'node1', cidr: '10.244.2.0/26', state: 'confirmed' });
    await blocks.refresh();
    expect(changes).toEqual([['10.244.2.0/26']]);

    await blocks.refresh(); // unchanged
    await affinity(ds, 'x', { node: 'node1', cidr: '10.244.9.0/26', state: 'pending' });
    await affinity(ds, 'y', { node: 'node2', cidr: '10.244.8.0/26', state: 'confirmed' });
    await blocks.refresh(); // changes that do not count
    expect(changes).toHaveLength(1);

    await affinity(ds, 'a', { node: 'node1', cidr: '10.244.1.0/26', state: 'confirmed' });
    await blocks.refresh();
    expect(changes).toEqual([['10.244.2.0/26'], ['10.244.1.0/26', '10.244.2.0/26']]);

    // Same size, other member.
    await ds.blockAffinities.delete('a');
    await affinity(ds, 'c', { node: 'node1', cidr: '10.244.3.0/26', state: 'confirmed' });
    await blocks.refresh();
    expect(changes.at(-1)).toEqual(['10.244.2.0/26', '10.244.3.0/26']);

    await ds.blockAffinities.delete('b');
    await ds.blockAffinities.delete('c');
    await blocks.refresh();
    expect(changes.at(-1)).toEqual([]);
    expect(changes).toHaveLength(4);
    expect(blocks.has('10.244.2.0/26')).toBe(false);
  });

  it('runs concurrent refreshes one after another, in order, and the last listing wins', async () => {
    const ds = memoryDatastore();
    await affinity(ds, 'a', { node: 'node1', cidr: '10.244.1.0/26', state: 'confirmed' });
    const list = ds.blockAffinities.list.bind(ds.blockAffinities);
    // The first listing is taken at once but answers only when released: without ordering, the
    // second (newer) listing would land first and be overwritten by this stale one.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    vi.spyOn(ds.blockAffinities, 'list').mockImplementation(async (labels) => {
      const n = ++calls;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const result = await list(labels);
      if (n === 1) await gate;
      inFlight--;
      return result;
    });
    const changes: string[][] = [];
    const blocks = new AffineBlocks(ds, 'node1', (b) => changes.push(b));

    const done: string[] = [];
    const first = blocks.refresh().then((b) => {
      done.push('first');
      return b;
    });
    await vi.waitFor(() => expect(calls).toBe(1)); // the first listing is taken
    await affinity(ds, 'b', { node: 'node1', cidr: '10.244.2.0/26', state: 'confirmed' });
    const second = blocks.refresh().then((b) => {
      done.push('second');
      return b;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBe(1); // the second waits for the first
    release();

    await expect(first).resolves.toEqual(['10.244.1.0/26']);
    await expect(second).resolves.toEqual(['10.244.1.0/26', '10.244.2.0/26']);
    expect(done).toEqual(['first', 'second']);
    expect(maxInFlight).toBe(1);
    expect(blocks.current()).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
    expect(changes).toEqual([['10.244.1.0/26'], ['10.244.1.0/26', '10.244.2.0/26']]);
  });

  it('a failed refresh rejects but does not stop the next one', async () => {
    const ds = memoryDatastore();
    await affinity(ds, 'a', { node: 'node1', cidr: '10.244.1.0/26', state: 'confirmed' });
    const list = ds.blockAffinities.list.bind(ds.blockAffinities);
    vi.spyOn(ds.blockAffinities, 'list')
      .mockRejectedValueOnce(new Error('apiserver down'))
      .mockImplementation(list);
    const blocks = new AffineBlocks(ds, 'node1', () => {});
    const failed = blocks.refresh();
    const next = blocks.refresh();
    await expect(failed).rejects.toThrow('apiserver down');
    await expect(next).resolves.toEqual(['10.244.1.0/26']);
  });
});
