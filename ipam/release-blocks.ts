// Freeing addresses in one block with a compare-and-swap loop: re-read on conflict and free
// again whatever still matches (a release is idempotent).

import type { Datastore } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import { type Holding, release } from './block.js';
import type { BlockCache } from './block-cache.js';
import { DEFAULT_RETRY, type RetryPolicy, withCasRetry } from './retry.js';

export interface ReleaseDeps {
  ds: Datastore;
  cache: BlockCache;
  now: () => number;
  retry?: RetryPolicy;
}

/** Frees the allocations of block `name` that `match` accepts; returns them. */
export async function releaseInBlock(
  deps: ReleaseDeps,
  name: string,
  match: (h: Holding) => boolean,
): Promise<Holding[]> {
  return withCasRetry(
    `IPAMBlock ${name}`,
    async () => {
      const block = await deps.cache.get(name);
      if (!block) return [];
      const freed = release(block.spec, match, deps.now());
      if (freed.length === 0) return freed;
      try {
        deps.cache.put(await deps.ds.ipamBlocks.update(block));
      } catch (e) {
        deps.cache.drop(name);
        if (isDatastoreError(e, 'NotFound')) return [];
        throw e;
      }
      return freed;
    },
    deps.retry ?? DEFAULT_RETRY,
  );
}
