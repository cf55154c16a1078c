// Claiming a block for a node, in two phases so a crash never leaves a block two nodes think
// they own: (1) create the BlockAffinity as `pending` — its name is the block's, so the API
// server lets only one node win; (2) create the IPAMBlock with that affinity; (3) confirm the
// affinity. A node finding its own pending affinity from an earlier crash resumes the claim.
import { type Cidr, formatCidr } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import { cidrResourceName, labelsForNode } from '../datastore/names.js';
import type { BlockAffinity, IPAMBlock } from '../datastore/resources.js';
import { newBlockSpec } from './block.js';
import { pickFreeBlock } from './block-picker.js';
import type { Pool } from './pools.js';
import { withCasRetry } from './retry.js';

const MAX_CANDIDATES = 64;

export interface Claimed {
  block: IPAMBlock;
  affinity: BlockAffinity;
}

/**
 * Claims a free block of `pool` for `node` (or the block `wanted`). `taken` holds the CIDRs of
 * blocks known to be in use and grows as candidates turn out taken. Returns undefined when the
 * pool has no free block (or `wanted` belongs to someone else).
 */
export async function claimBlock(
  ds: Datastore,
  node: string,
  pool: Pool,
  taken: Set<string>,
  wanted?: Cidr,
): Promise<Claimed | undefined> {
  for (let i = 0; i < MAX_CANDIDATES; i++) {
    const cidr = wanted ?? pickFreeBlock(pool, taken, node);
    if (!cidr) return undefined;
    const claimed = await tryClaim(ds, node, cidr);
    if (claimed) return claimed;
    taken.add(formatCidr(cidr));
    if (wanted) return undefined;
  }
  return undefined;
}

async function tryClaim(ds: Datastore, node: string, cidr: Cidr): Promise<Claimed | undefined> {
  const name = cidrResourceName(cidr);
  const cidrText = formatCidr(cidr);
  let affinity: BlockAffinity;
  try {
    affinity = await ds.blockAffinities.create({
      metadata: { name, labels: labelsForNode(node) },
      spec: { node, cidr: cidrText, state: 'pending' },
    });
  } catch (e) {
    if (!isDatastoreError(e, 'AlreadyExists')) throw e;
    const existing = await ds.blockAffinities.get(name);
    if (existing?.spec.node !== node || existing.spec.state === 'pendingDeletion') return undefined;
    affinity = existing; // our own claim from before a crash (or confirmed meanwhile)
  }

  let block: IPAMBlock;
  try {
    block = await ds.ipamBlocks.create({ metadata: { name }, spec: newBlockSpec(cidr, node) });
  } catch (e) {
    if (!isDatastoreError(e, 'AlreadyExists')) throw e;
    const existing = await ds.ipamBlocks.get(name);
    if (!existing || existing.spec.affinity !== node) {
      // The block exists without being ours (e.g. left behind by a deleted node): withdraw.
      await ds.blockAffinities
        .delete(name, { uid: affinity.metadata.uid as string })
        .catch((err: unknown) => {
          if (!isDatastoreError(err, 'NotFound')) throw err;
        });
      return undefined;
    }
    block = existing;
  }

  if (affinity.spec.state !== 'confirmed') {
    const confirmed = await withCasRetry(`BlockAffinity ${name}`, async () => {
      const current = await ds.blockAffinities.get(name);
      // Withdrawn meanwhile (the GC gave the still-empty block back): this claim is over.
      if (!current || current.spec.node !== node || current.spec.state === 'pendingDeletion') return null;
      if (current.spec.state === 'confirmed') return current;
      try {
        return await ds.blockAffinities.update({ ...current, spec: { ...current.spec, state: 'confirmed' } });
      } catch (e) {
        if (isDatastoreError(e, 'NotFound')) return null;
        throw e;
      }
    });
    if (!confirmed) return undefined;
    affinity = confirmed;
  }
  return { block, affinity };
}
