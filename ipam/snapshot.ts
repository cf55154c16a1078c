// A read of every IPAM object, for the consistency check and the leak GC.
import { type Cidr, cidrsOverlap, parseCidr } from '../common/addr.js';
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

/**
 * The part of a snapshot inside `cidrs` (pool CIDRs): the pools themselves, the blocks and
 * affinities overlapping them, and, in each handle index, the entries naming such a block.
 */
export function snapshotWithin(s: IpamSnapshot, cidrs: readonly string[]): IpamSnapshot {
  const scope: Cidr[] = cidrs.map((c) => parseCidr(c));
  const inside = (cidr: string) => scope.some((c) => cidrsOverlap(c, parseCidr(cidr)));
  return {
    pools: s.pools.filter((p) => cidrs.includes(p.spec.cidr)),
    blocks: s.blocks.filter((b) => inside(b.spec.cidr)),
    affinities: s.affinities.filter((a) => inside(a.spec.cidr)),
    handles: s.handles.map((index) => ({
      ...index,
      spec: {
        ...index.spec,
        handles: Object.fromEntries(
          Object.entries(index.spec.handles).filter(([, e]) => Object.keys(e.blocks).some(inside)),
        ),
      },
    })),
  };
}
