// One batch of release-by-handle requests for one node: each touched block is written once for
// all handles in the batch, then the node's handle index drops them with one write. Unknown
// handles are success (a CNI DEL may run twice, or after a failed ADD).
import { cidrResourceName, labelsForNode } from '../datastore/names.js';
import type { Pending } from './group-commit.js';
import { updateHandles } from './handles.js';
import { type ReleaseDeps, releaseInBlock } from './release-blocks.js';
import type { ReleaseResult } from './types.js';

export async function runReleaseBatch(
  deps: ReleaseDeps,
  node: string,
  batch: Pending<string, ReleaseResult>[],
): Promise<void> {
  try {
    const handles = new Set(batch.map((p) => p.item));
    const index = await deps.ds.ipamHandles.get(node);
    const names = new Set<string>();
    let unindexed = false;
    for (const h of handles) {
      const entry = index?.spec.handles[h];
      if (entry) for (const cidr of Object.keys(entry.blocks)) names.add(cidrResourceName(cidr));
      else unindexed = true;
    }
    if (unindexed) {
      // Not in the index (e.g. the agent died between writing the block and the index): look in
      // the node's own blocks, where its allocations normally are.
      const affinities = await deps.ds.blockAffinities.list(labelsForNode(node));
      for (const a of affinities.items) names.add(a.metadata.name);
    }

    const released = new Map<string, string[]>();
    await Promise.all(
      [...names].map(async (name) => {
        const { freed } = await releaseInBlock(deps, name, (h) => handles.has(h.attributes.handle));
        for (const h of freed)
          released.set(h.attributes.handle, [...(released.get(h.attributes.handle) ?? []), h.address]);
      }),
    );
    if (index) await updateHandles(deps.ds, node, { remove: [...handles] }, deps.retry, index);
    for (const p of batch) p.resolve({ handle: p.item, released: released.get(p.item) ?? [] });
  } catch (e) {
    for (const p of batch) p.reject(e);
  }
}
