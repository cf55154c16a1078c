import { beforeEach, describe, expect, it } from 'vitest';
import { type MemoryDatastore, memoryDatastore } from '../datastore/memory.js';
import { checkIpam } from './check.js';
import { LeakCollector, type Liveness } from './gc.js';
import { Ipam } from './ipam.js';
import { readSnapshot } from './snapshot.js';

let ds: MemoryDatastore;
let ipam: Ipam;
let clock: number;
let pods: Set<string>;
const GRACE = 60_000;

/** Liveness backed by `pods`; `beforeRecheck` lets a test act between listing and re-check. */
function liveness(beforeRecheck?: (handle: string) => void | Promise<void>): Liveness {
  return {
    liveHandles: async () => new Set(pods),
    isLive: async (handle) => {
      await beforeRecheck?.(handle);
      return pods.has(handle);
    },
    liveNodes: async () => new Set(['node1', 'node2']),
  };
}

const assign = async (handle: string, node = 'node1') => {
  pods.add(handle);
  return (await ipam.assign(handle, node, { v4: 1 })).addresses[0]?.address as string;
};

beforeEach(async () => {
  ds = memoryDatastore({ node1: {}, node2: {} });
  clock = Date.parse('2026-11-21T00:00:00Z');
  ipam = new Ipam(ds, { now: () => clock });
  pods = new Set();
  await ds.ipPools.create({ metadata: { name: 'default' }, spec: { cidr: '10.244.0.0/16' } });
  await ds.ipamConfigs.create({ metadata: { name: 'default' }, spec: { cooldownSeconds: 0 } });
});

describe('leak GC', () => {
  it('frees a deleted pod’s address only after the grace period, and keeps live ones', async () => {
    const gone = await assign('gone');
    const alive = await assign('alive');
    pods.delete('gone');
    const gc = new LeakCollector(ipam, liveness(), { graceMs: GRACE, now: () => clock });

    const early = await gc.run();
    expect(early.candidates).toBe(1);
    expect(early.reclaimed).toEqual([]);

    clock += GRACE;
    const late = await gc.run();
    expect(late.reclaimed).toEqual([{ address: gone, handle: 'gone', node: 'node1' }]);
    const report = checkIpam(await readSnapshot(ds));
    expect(report.problems).toEqual([]);
    expect(report.allocated).toBe(1);
    expect((await ipam.assign('alive', 'node1', { v4: 1 })).addresses[0]?.address).toBe(alive);
  });

  it('with pools given, touches nothing outside them', async () => {
    await ds.ipPools.create({ metadata: { name: 'other' }, spec: { cidr: '10.245.0.0/16' } });
    const inside = await assign('inside');
    pods.add('outside');
    await ipam.assign('outside', 'node1', { v4: 1, pool: 'other' });
    pods.clear();
    const gc = new LeakCollector(ipam, liveness(), {
      graceMs: 0,
      now: () => clock,
      pools: ['10.244.0.0/16'],
    });
    const report = await gc.run();
    expect(report.reclaimed).toEqual([{ address: inside, handle: 'inside', node: 'node1' }]);
    expect(await ipam.addressesOf('outside', 'node1')).toHaveLength(1);
  });

  it('never frees an address whose pod came back before the re-check', async () => {
    const addr = await assign('flappy');
    pods.delete('flappy');
    const gc = new LeakCollector(
      ipam,
      liveness((handle) => {
        pods.add(handle); // the pod is recreated while the GC is deciding
      }),
      { graceMs: 0, now: () => clock },
    );
    const report = await gc.run();
    expect(report.spared).toEqual(['flappy']);
    expect(report.reclaimed).toEqual([]);
    expect((await ipam.assign('flappy', 'node1', { v4: 1 })).addresses[0]?.address).toBe(addr);
  });

  it('never frees an address that was released and given to a new pod meanwhile', async () => {
    await ds.ipPools.delete('default');
    await ds.ipPools.create({ metadata: { name: 'one' }, spec: { cidr: '10.244.0.0/32', blockSize: 32 } });
    const addr = await assign('old');
    pods.delete('old');
    const gc = new LeakCollector(
      ipam,
      liveness(async () => {
        // Between the GC's listing and its release, the CNI frees the address and a new pod gets it.
        await ipam.releaseByHandle('old', 'node1');
        expect(await assign('new')).toBe(addr);
      }),
      { graceMs: 0, now: () => clock },
    );
    const report = await gc.run();
    expect(report.reclaimed).toEqual([]);
    const holders = (await ds.ipamBlocks.list()).items.flatMap((b) => b.spec.attributes.map((a) => a.handle));
    expect(holders).toEqual(['new']);
  });

  it('frees the allocations of a deleted node at once', async () => {
    await assign('orphan', 'node2');
    pods.delete('orphan');
    const gc = new LeakCollector(
      ipam,
      { ...liveness(), liveNodes: async () => new Set(['node1']) },
      { graceMs: GRACE, now: () => clock },
    );
    const report = await gc.run();
    expect(report.reclaimed.map((r) => r.handle)).toEqual(['orphan']);
    expect(report.blocksReleased).toHaveLength(1);
    expect((await ds.blockAffinities.list()).items).toEqual([]);
  });

  it('gives back an empty block after the grace period, but never a node’s last block', async () => {
    for (let i = 0; i < 65; i++) await assign(`p${i}`); // two blocks on node1
    for (let i = 0; i < 65; i++) {
      await ipam.releaseByHandle(`p${i}`, 'node1');
      pods.delete(`p${i}`);
    }
    const gc = new LeakCollector(ipam, liveness(), { graceMs: GRACE, now: () => clock });
    expect((await gc.run()).blocksReleased).toEqual([]);
    clock += GRACE;
    expect((await gc.run()).blocksReleased).toHaveLength(1);
    clock += GRACE;
    expect((await gc.run()).blocksReleased).toEqual([]);
    expect((await ds.ipamBlocks.list()).items).toHaveLength(1);
    expect(checkIpam(await readSnapshot(ds)).ok).toBe(true);
  });
});

describe('leak GC housekeeping', () => {
  it('drops an index entry nothing backs only after the grace period and a re-check', async () => {
    await assign('kept');
    const index = await ds.ipamHandles.get('node1');
    index!.spec.handles.orphan = { blocks: { '10.244.99.0/26': 1 } };
    await ds.ipamHandles.update(index!);
    const gc = new LeakCollector(ipam, liveness(), { graceMs: GRACE, now: () => clock });
    expect((await gc.run()).staleHandles).toEqual([]);
    clock += GRACE;
    expect((await gc.run()).staleHandles).toEqual(['orphan']);
    expect(Object.keys((await ds.ipamHandles.get('node1'))?.spec.handles ?? {})).toEqual(['kept']);
  });

  it('removes a half-done claim after the grace period', async () => {
    await ds.blockAffinities.create({
      metadata: { name: '10-244-200-0-26' },
      spec: { node: 'node1', cidr: '10.244.200.0/26', state: 'pending' },
    });
    const gc = new LeakCollector(ipam, liveness(), { graceMs: GRACE, now: () => clock });
    expect((await gc.run()).staleClaims).toEqual([]);
    clock += GRACE;
    expect((await gc.run()).staleClaims).toEqual(['10.244.200.0/26']);
    expect((await ds.blockAffinities.list()).items).toEqual([]);
  });

  it('keeps a node’s last block of each family', async () => {
    await ds.ipPools.create({ metadata: { name: 'v6' }, spec: { cidr: 'fd00:10:244::/56' } });
    await ipam.assign('d', 'node1', { v4: 1, v6: 1 });
    await ipam.releaseByHandle('d', 'node1');
    const gc = new LeakCollector(ipam, liveness(), { graceMs: 0, now: () => clock });
    expect((await gc.run()).blocksReleased).toEqual([]);
    expect((await ds.ipamBlocks.list()).items).toHaveLength(2);
  });

  it('reclaims leaks in a block whose pool was deleted, and reports failures without stopping', async () => {
    const addr = await assign('stranded');
    pods.delete('stranded');
    await ds.ipPools.delete('default');
    const gc = new LeakCollector(ipam, liveness(), { graceMs: 0, now: () => clock });
    const report = await gc.run();
    expect(report.reclaimed).toEqual([{ address: addr, handle: 'stranded', node: 'node1' }]);
    expect(report.errors).toEqual([]);
  });
});
