// Freeing addresses in one block with a compare-and-swap loop. The block is always read fresh:
// a cached copy that matches nothing would never be written, so its staleness would never show.
// A release is idempotent: what no longer matches is simply not freed.
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

export interface Released {
  freed: Holding[];
  /** CIDR of the block (undefined when it does not exist). */
  cidr?: string;
}

/** Frees the allocations of block `name` that `match` accepts; returns them. */
export async function releaseInBlock(
  deps: ReleaseDeps,
  name: string,
  match: (h: Holding) => boolean,
): Promise<Released> {
  return withCasRetry(
    `IPAMBlock ${name}`,
    async () => {
      const block = await deps.cache.fresh(name);
      if (!block) return { freed: [] };
      const cidr = block.spec.cidr;
      const freed = release(block.spec, match, deps.now());
      if (freed.length === 0) return { freed, cidr };
      try {
        deps.cache.put(await deps.ds.ipamBlocks.update(block));
      } catch (e) {
        deps.cache.drop(name);
        if (isDatastoreError(e, 'NotFound')) return { freed: [] };
        throw e;
      }
      return { freed, cidr };
    },
    deps.retry ?? DEFAULT_RETRY,
  );
}
