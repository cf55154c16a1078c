// Which block to claim next and which foreign blocks to borrow from. Pure. Both orders are
// seeded by the node name so that nodes starting together spread out instead of all racing for
// the same block.
import { createHash } from 'node:crypto';
import { type Cidr, formatCidr, subnetAt, subnetCount } from '../common/addr.js';
import type { Pool } from './pools.js';

function seed(node: string): bigint {
  return BigInt(`0x${createHash('sha256').update(node).digest('hex').slice(0, 16)}`);
}

/**
 * A block of `pool` that no existing block or affinity uses (`taken` holds their CIDRs), or
 * undefined when the pool is full. Scanning starts at a node-specific position and wraps.
 */
export function pickFreeBlock(pool: Pool, taken: ReadonlySet<string>, node: string): Cidr | undefined {
  const total = subnetCount(pool.cidr, pool.blockSize);
  const start = seed(node) % total;
  // Every taken block is one of the pool's aligned blocks, so among taken.size + 1 consecutive
  // candidates at least one is free unless the pool itself is full.
  const limit = total < BigInt(taken.size + 1) ? total : BigInt(taken.size + 1);
  for (let i = 0n; i < limit; i++) {
    const candidate = subnetAt(pool.cidr, pool.blockSize, (start + i) % total);
    if (!taken.has(formatCidr(candidate))) return candidate;
  }
  return undefined;
}

/** `items` in a pseudo-random order that is stable for one node and differs between nodes. */
export function nodeOrder<T>(items: T[], key: (t: T) => string, node: string): T[] {
  const rank = (t: T) =>
    createHash('sha256')
      .update(`${node}\0${key(t)}`)
      .digest('hex');
  return items
    .map((t) => ({ t, r: rank(t) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .map((x) => x.t);
}
