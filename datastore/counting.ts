// A Datastore that counts the writes (create, update, delete) passed to another one, for the
// IPAM benchmark's "API writes per allocation". Every call that reaches the inner store counts,
// whether it succeeds or not; `conflicts` counts those refused for a lost race.
import { collections, type Datastore, type ResourceStore } from './datastore.js';
import { isDatastoreError } from './errors.js';
import type { CollectionName } from './resources.js';

export interface WriteCounts {
  creates: number;
  updates: number;
  deletes: number;
  /** Writes refused with Conflict (stale resourceVersion or precondition). */
  conflicts: number;
  /** Creates refused with AlreadyExists (another writer created the object first). */
  alreadyExists: number;
  /** Writes that failed for any reason (conflicts and alreadyExists included). */
  failed: number;
}

export interface CountingDatastore extends Datastore {
  /** create + update + delete calls so far. */
  writes(): number;
  /** Writes refused with Conflict so far. */
  conflicts(): number;
  /** All counters, as a copy. */
  counts(): WriteCounts;
  /** Sets every counter back to zero. */
  reset(): void;
}

const zero = (): WriteCounts => ({
  creates: 0,
  updates: 0,
  deletes: 0,
  conflicts: 0,
  alreadyExists: 0,
  failed: 0,
});

export function countingDatastore(inner: Datastore): CountingDatastore {
  let c = zero();

  const counted = async <T>(op: 'creates' | 'updates' | 'deletes', call: () => Promise<T>): Promise<T> => {
    c[op] += 1;
    try {
      return await call();
    } catch (e) {
      c.failed += 1;
      if (isDatastoreError(e, 'Conflict')) c.conflicts += 1;
      if (isDatastoreError(e, 'AlreadyExists')) c.alreadyExists += 1;
      throw e;
    }
  };

  const wrap = <S>(store: ResourceStore<S>): ResourceStore<S> => ({
    kind: store.kind,
    get: (name) => store.get(name),
    list: (labels, options) => store.list(labels, options),
    watch: (onEvent, options) => store.watch(onEvent, options),
    create: (obj) => counted('creates', () => store.create(obj)),
    update: (obj) => counted('updates', () => store.update(obj)),
    delete: (name, pre) => counted('deletes', () => store.delete(name, pre)),
  });

  const stores = collections(<S>(name: CollectionName) => wrap(inner[name] as ResourceStore<S>));

  return {
    ...stores,
    nodeLabels: (node) => inner.nodeLabels(node),
    annotatePod: (...args) => inner.annotatePod(...args),
    listPods: () => inner.listPods(),
    getPod: (...args) => inner.getPod(...args),
    listNodes: () => inner.listNodes(),
    listNodeInfos: () => inner.listNodeInfos(),
    watchNodes: (onEvent) => inner.watchNodes(onEvent),
    annotateNode: (...args) => inner.annotateNode(...args),
    readSecretKey: (...args) => inner.readSecretKey(...args),
    close: () => inner.close(),
    writes: () => c.creates + c.updates + c.deletes,
    conflicts: () => c.conflicts,
    counts: () => ({ ...c }),
    reset: () => {
      c = zero();
    },
  };
}
