// Giving an empty block back to the pool, safe against a concurrent allocation: mark the
// affinity pendingDeletion, delete the block only if it is unchanged since it was seen empty
// (resourceVersion precondition), then delete the affinity. If the block changed, the affinity
// goes back to confirmed and the block stays.
import type { Datastore } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import type { IPAMBlock } from '../datastore/resources.js';
import { allocatedCount } from './block.js';

const ignoreNotFound = (e: unknown) => {
  if (!isDatastoreError(e, 'NotFound')) throw e;
};

/** Returns whether the block was deleted. */
export async function releaseEmptyBlock(ds: Datastore, seen: IPAMBlock): Promise<boolean> {
  if (allocatedCount(seen.spec) > 0) return false;
  const name = seen.metadata.name;
  const affinity = await ds.blockAffinities.get(name);
  let marked = affinity;
  if (affinity && affinity.spec.state !== 'pendingDeletion') {
    try {
      marked = await ds.blockAffinities.update({
        ...affinity,
        spec: { ...affinity.spec, state: 'pendingDeletion' },
      });
    } catch (e) {
      if (isDatastoreError(e, 'Conflict') || isDatastoreError(e, 'NotFound')) return false;
      throw e;
    }
  }
  try {
    await ds.ipamBlocks.delete(name, { resourceVersion: seen.metadata.resourceVersion as string });
  } catch (e) {
    if (isDatastoreError(e, 'Conflict')) {
      // Somebody allocated (or borrowed) meanwhile: the block lives on, affine as before.
      const current = marked && (await ds.blockAffinities.get(name));
      if (current && current.spec.state === 'pendingDeletion') {
        await ds.blockAffinities
          .update({ ...current, spec: { ...current.spec, state: 'confirmed' } })
          .catch(ignoreNotFound);
      }
      return false;
    }
    if (!isDatastoreError(e, 'NotFound')) throw e;
  }
  if (marked)
    await ds.blockAffinities.delete(name, { uid: marked.metadata.uid as string }).catch(ignoreNotFound);
  return true;
}
