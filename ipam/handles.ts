// The per-node handle index (IPAMHandle named after the node): handle → blocks → counts.
// Updates are expressed as re-applicable changes so a compare-and-swap miss just re-reads the
// index and applies them again.
import type { Datastore } from '../datastore/datastore.js';
import { labelsForNode } from '../datastore/names.js';
import type { HandleEntry, IPAMHandle } from '../datastore/resources.js';
import { DEFAULT_RETRY, type RetryPolicy, withCasRetry } from './retry.js';

export interface HandleChanges {
  /** Addresses gained: `count` more for `handle` in `block` (a block CIDR). */
  add?: { handle: string; block: string; count: number }[];
  /** Addresses lost in one block (count decremented; entries reaching 0 vanish). */
  subtract?: { handle: string; block: string; count: number }[];
  /** Handles dropped entirely (applied before `add`). */
  remove?: string[];
}

/** Applies removals first, then additions and subtractions (so remove + add replaces an entry). */
export function applyHandleChanges(handles: Record<string, HandleEntry>, changes: HandleChanges): void {
  for (const handle of changes.remove ?? []) delete handles[handle];
  for (const { handle, block, count } of changes.add ?? []) {
    const entry = handles[handle] ?? { blocks: {} };
    entry.blocks[block] = (entry.blocks[block] ?? 0) + count;
    handles[handle] = entry;
  }
  for (const { handle, block, count } of changes.subtract ?? []) {
    const entry = handles[handle];
    if (!entry) continue;
    const left = (entry.blocks[block] ?? 0) - count;
    if (left > 0) entry.blocks[block] = left;
    else delete entry.blocks[block];
    if (Object.keys(entry.blocks).length === 0) delete handles[handle];
  }
}

const isEmpty = (c: HandleChanges) => !c.add?.length && !c.subtract?.length && !c.remove?.length;

/**
 * Applies `changes` to `node`'s handle index (creating it), retrying on conflicts. `prefetched`
 * (the index as the caller just read it) saves the first read; a stale one only costs a
 * compare-and-swap miss and a re-read.
 */
export async function updateHandles(
  ds: Datastore,
  node: string,
  changes: HandleChanges,
  policy: RetryPolicy = DEFAULT_RETRY,
  prefetched?: IPAMHandle,
): Promise<IPAMHandle | undefined> {
  if (isEmpty(changes)) return undefined;
  let first = prefetched ? { index: structuredClone(prefetched) } : undefined;
  return withCasRetry(
    `IPAMHandle ${node}`,
    async () => {
      const current = first ? first.index : await ds.ipamHandles.get(node);
      first = undefined;
      if (!current) {
        if (!changes.add?.length) return undefined; // nothing to remove from an absent index
        const handles: Record<string, HandleEntry> = {};
        applyHandleChanges(handles, changes);
        return ds.ipamHandles.create({
          metadata: { name: node, labels: labelsForNode(node) },
          spec: { node, handles },
        });
      }
      applyHandleChanges(current.spec.handles, changes);
      return ds.ipamHandles.update(current);
    },
    policy,
  );
}

/** The node whose index holds `handle`, searching every index (for callers that lack it). */
export async function findHandleNode(ds: Datastore, handle: string): Promise<string | undefined> {
  const { items } = await ds.ipamHandles.list();
  return items.find((index) => index.spec.handles[handle])?.spec.node;
}
