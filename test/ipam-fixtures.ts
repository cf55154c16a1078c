// IPAM test helpers shared by integration tests and the benchmark: wiping IPAM state, racing a
// second writer into a block update, and summarising a burst's results.
import {
  type Datastore,
  IPAM_CONFIG_NAME,
  isDatastoreError,
  type ResourceStore,
} from '../datastore/index.js';
import { type IpamSnapshot, readSnapshot, snapshotWithin } from '../ipam/index.js';

/**
 * The part of the cluster's IPAM state a test owns: its pool, the blocks and affinities inside
 * it, and its nodes' handle indexes. Other test files share the API server and write their own
 * objects meanwhile; scoping keeps both sides out of each other's way.
 */
export interface IpamScope {
  pool: string;
  nodes: string[];
}

export function scopedSnapshot(s: IpamSnapshot, scope: IpamScope): IpamSnapshot {
  return {
    ...snapshotWithin(s, [scope.pool]),
    handles: s.handles.filter((h) => scope.nodes.includes(h.spec.node)),
  };
}

/** Deletes the IPAM objects in `scope` (every IPAM object without one), pools and config included. */
export async function wipeIpam(ds: Datastore, scope?: IpamScope): Promise<void> {
  const s = await readSnapshot(ds);
  const mine = scope ? scopedSnapshot(s, scope) : s;
  const remove = async <S>(store: ResourceStore<S>, names: string[]) =>
    Promise.all(
      names.map((n) =>
        store.delete(n).catch((e: unknown) => {
          if (!isDatastoreError(e, 'NotFound')) throw e;
        }),
      ),
    );
  const names = (objs: { metadata: { name: string } }[]) => objs.map((o) => o.metadata.name);
  await remove(ds.ipamHandles, names(mine.handles));
  await remove(ds.ipamBlocks, names(mine.blocks));
  await remove(ds.blockAffinities, names(mine.affinities));
  await remove(ds.ipPools, names(mine.pools));
  await remove(ds.ipamConfigs, [IPAM_CONFIG_NAME]);
}

/**
 * `ds` with `beforeBlockUpdate` run before each IPAMBlock update (the write still goes out with
 * the resourceVersion read before the hook: a real lost race when the hook writes the block).
 */
export function withBlockUpdateHook(ds: Datastore, beforeBlockUpdate: () => Promise<void>): Datastore {
  const blocks = ds.ipamBlocks;
  return {
    ipPools: ds.ipPools,
    blockAffinities: ds.blockAffinities,
    ipamHandles: ds.ipamHandles,
    ipamConfigs: ds.ipamConfigs,
    bgpConfigurations: ds.bgpConfigurations,
    bgpPeers: ds.bgpPeers,
    nodeLabels: (n) => ds.nodeLabels(n),
    annotatePod: (...args) => ds.annotatePod(...args),
    listPods: () => ds.listPods(),
    getPod: (...args) => ds.getPod(...args),
    listNodes: () => ds.listNodes(),
    listNodeInfos: () => ds.listNodeInfos(),
    watchNodes: (f) => ds.watchNodes(f),
    annotateNode: (...args) => ds.annotateNode(...args),
    readSecretKey: (...args) => ds.readSecretKey(...args),
    close: () => ds.close(),
    ipamBlocks: {
      kind: blocks.kind,
      get: (n) => blocks.get(n),
      list: (l, o) => blocks.list(l, o),
      create: (o) => blocks.create(o),
      delete: (n, p) => blocks.delete(n, p),
      watch: (f, o) => blocks.watch(f, o),
      update: async (o) => {
        await beforeBlockUpdate();
        return blocks.update(o);
      },
    },
  };
}

/** Addresses given more than once in `addresses`. */
export const duplicatesIn = (addresses: string[]): number => addresses.length - new Set(addresses).size;
