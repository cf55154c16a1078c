// Everything one batch for one node needs to know, read in parallel at the start of the batch:
// settings, pools, the node's labels, handle index and affinities; plus lazily the cluster-wide
// views only claiming (which blocks are taken) and borrowing (foreign blocks) need.
import type { IpFamily } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import { labelsForNode } from '../datastore/names.js';
import {
  type BlockAffinity,
  IPAM_CONFIG_NAME,
  type IPAMBlock,
  type IPAMHandle,
} from '../datastore/resources.js';
import { availableCount, blockCidr } from './block.js';
import { nodeOrder } from './block-picker.js';
import { type IpamSettings, ipamSettings } from './config.js';
import { type Pool, poolHoldsBlock, usablePools } from './pools.js';

export interface NodeEnv {
  node: string;
  settings: IpamSettings;
  /** Pools the allocator may use (overlapping younger pools removed). */
  pools: Pool[];
  labels: Record<string, string>;
  handles: IPAMHandle | undefined;
  /** This node's affinities, any state. */
  affinities: BlockAffinity[];
  /** CIDRs of every block claimed by anyone (read on first use). */
  taken(): Promise<Set<string>>;
  /** Other nodes' (or nobody's) blocks in `pools` with addresses free now, in this node's order. */
  borrowable(pools: Pool[], family: IpFamily, nowMs: number): Promise<IPAMBlock[]>;
  /** True while `affinities` came from the API server's cache (possibly a little stale). */
  affinitiesCached: boolean;
  /** Re-reads the node's affinities, consistently (after a claim or a vanished block). */
  refreshAffinities(): Promise<void>;
}

export async function loadNodeEnv(ds: Datastore, node: string): Promise<NodeEnv> {
  const byNode = labelsForNode(node);
  const [config, pools, labels, handles, affinities] = await Promise.all([
    ds.ipamConfigs.get(IPAM_CONFIG_NAME),
    // Pools and the node's affinities from the API server's cache: a consistent list waits for
    // its watch cache to catch up with etcd (tens of ms). Pools change rarely; the affinities are
    // re-read consistently before the node claims a block (affinitiesCached).
    ds.ipPools.list(undefined, { cached: true }),
    ds.nodeLabels(node),
    ds.ipamHandles.get(node),
    ds.blockAffinities.list(byNode, { cached: true }),
  ]);
  let taken: Promise<Set<string>> | undefined;
  let allBlocks: Promise<IPAMBlock[]> | undefined;
  const env: NodeEnv = {
    node,
    settings: ipamSettings(config?.spec),
    pools: usablePools(pools.items),
    labels: labels ?? {},
    handles,
    affinities: affinities.items.filter((a) => a.spec.node === node),
    taken: () => {
      taken ??= ds.blockAffinities.list().then((l) => new Set(l.items.map((a) => a.spec.cidr)));
      return taken;
    },
    borrowable: async (eligible, family, nowMs) => {
      allBlocks ??= ds.ipamBlocks.list().then((l) => l.items);
      const candidates = (await allBlocks).filter((b) => {
        const cidr = blockCidr(b.spec);
        return (
          cidr.family === family &&
          b.spec.affinity !== node &&
          eligible.some((p) => poolHoldsBlock(p, cidr)) &&
          availableCount(b.spec, nowMs, env.settings.cooldownMs) > 0
        );
      });
      return nodeOrder(candidates, (b) => b.metadata.name, node);
    },
    affinitiesCached: true,
    refreshAffinities: async () => {
      const fresh = await ds.blockAffinities.list(byNode);
      env.affinities = fresh.items.filter((a) => a.spec.node === node);
      env.affinitiesCached = false;
      taken = undefined;
    },
  };
  return env;
}
