// A read of every IPAM object, for the consistency check and the leak GC.
import type { Datastore } from '../datastore/datastore.js';
import type { BlockAffinity, IPAMBlock, IPAMHandle, IPPool } from '../datastore/resources.js';

export interface IpamSnapshot {
  pools: IPPool[];
  blocks: IPAMBlock[];
  affinities: BlockAffinity[];
  handles: IPAMHandle[];
}

export async function readSnapshot(ds: Datastore): Promise<IpamSnapshot> {
  const [pools, blocks, affinities, handles] = await Promise.all([
    ds.ipPools.list(),
    ds.ipamBlocks.list(),
    ds.blockAffinities.list(),
    ds.ipamHandles.list(),
  ]);
  return { pools: pools.items, blocks: blocks.items, affinities: affinities.items, handles: handles.items };
}
