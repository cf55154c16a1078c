// Consistency report over a snapshot of IPAM state: what `tabby ipam check` prints. Pure.
import { cidrSize, parseCidr, toBigInt } from '../common/addr.js';
import { holdings } from './block.js';
import { partitionPools, poolHoldsBlock, readPools } from './pools.js';
import type { IpamSnapshot } from './snapshot.js';

export type ProblemKind =
  /** An address is allocated in a block but its handle's index entry does not record it. */
  | 'allocation-without-handle'
  /** A handle index entry counts addresses in a block that the block does not hold for it. */
  | 'handle-mismatch'
  /** Two BlockAffinities claim the same block. */
  | 'duplicate-affinity'
  /** A confirmed affinity whose block is missing or affine to another node. */
  | 'affinity-mismatch'
  | 'block-outside-pools'
  | 'block-overlap'
  | 'pool-overlap'
  /** A stored pool that does not parse (bad CIDR or block size). */
  | 'pool-invalid'
  /** An ordinal both free and allocated, or neither. */
  | 'block-corrupt';

export interface Problem {
  kind: ProblemKind;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  pools: number;
  blocks: number;
  allocated: number;
  handles: number;
  problems: Problem[];
}

export function checkIpam(s: IpamSnapshot): CheckReport {
  const problems: Problem[] = [];
  const add = (kind: ProblemKind, message: string) => problems.push({ kind, message });
  const { pools, invalid } = readPools(s.pools);
  for (const e of invalid) add('pool-invalid', `${e.message} (the pool is ignored)`);
  for (const o of partitionPools(pools).overlapping) {
    add(
      'pool-overlap',
      `IPPool ${o.pool} (${o.cidr}) overlaps older IPPool ${o.overlaps} (${o.overlapsCidr}) and is ignored`,
    );
  }

  // What the blocks hold, per handle and block.
  const held: Counts = new Map();
  let allocated = 0;
  for (const b of s.blocks) {
    const cidr = parseCidr(b.spec.cidr);
    if (!pools.some((p) => poolHoldsBlock(p, cidr)))
      add('block-outside-pools', `block ${b.spec.cidr} lies in no IPPool`);
    checkBlockShape(b.spec, add);
    for (const h of holdings(b.spec)) {
      allocated++;
      const perBlock = held.get(h.attributes.handle) ?? new Map<string, number>();
      perBlock.set(b.spec.cidr, (perBlock.get(b.spec.cidr) ?? 0) + 1);
      held.set(h.attributes.handle, perBlock);
    }
  }
  // Sweep in address order: a block overlapping any earlier one overlaps the widest still open.
  const spans = s.blocks
    .map((b) => {
      const c = parseCidr(b.spec.cidr);
      const start = toBigInt(c.network) + (c.family === 6 ? 1n << 128n : 0n);
      return { cidr: b.spec.cidr, start, end: start + cidrSize(c) - 1n };
    })
    .sort((a, b) =>
      a.start === b.start ? Number(a.end < b.end) - Number(a.end > b.end) : a.start < b.start ? -1 : 1,
    );
  let open: (typeof spans)[number] | undefined;
  for (const span of spans) {
    if (open && span.start <= open.end) add('block-overlap', `blocks ${open.cidr} and ${span.cidr} overlap`);
    if (!open || span.end > open.end) open = span;
  }

  // What the handle indexes record.
  const indexed: Counts = new Map();
  for (const index of s.handles) {
    for (const [handle, entry] of Object.entries(index.spec.handles)) {
      indexed.set(handle, new Map(Object.entries(entry.blocks)));
    }
  }
  for (const { handle, block, count, other } of shortfalls(held, indexed)) {
    add(
      'allocation-without-handle',
      `${count - other} address(es) in block ${block} held by handle ${handle} are not in its handle index`,
    );
  }
  for (const { handle, block, count, other } of shortfalls(indexed, held)) {
    add(
      'handle-mismatch',
      `handle ${handle} records ${count} address(es) in block ${block}, which holds ${other} for it`,
    );
  }

  const byCidr = new Map<string, string[]>();
  for (const a of s.affinities) byCidr.set(a.spec.cidr, [...(byCidr.get(a.spec.cidr) ?? []), a.spec.node]);
  for (const [cidr, nodes] of byCidr) {
    if (nodes.length > 1)
      add(
        'duplicate-affinity',
        `block ${cidr} is claimed by ${nodes.length} affinities (nodes ${nodes.join(', ')})`,
      );
  }
  const blocks = new Map(s.blocks.map((b) => [b.spec.cidr, b]));
  for (const a of s.affinities.filter((x) => x.spec.state === 'pending' && !blocks.has(x.spec.cidr))) {
    add(
      'affinity-mismatch',
      `node ${a.spec.node} has a pending claim on block ${a.spec.cidr} but no block (half-done, or in progress)`,
    );
  }
  for (const a of s.affinities.filter((x) => x.spec.state === 'confirmed')) {
    const block = blocks.get(a.spec.cidr);
    if (!block)
      add(
        'affinity-mismatch',
        `node ${a.spec.node} has a confirmed affinity for missing block ${a.spec.cidr}`,
      );
    else if (block.spec.affinity !== a.spec.node) {
      add(
        'affinity-mismatch',
        `block ${a.spec.cidr} is affine to ${block.spec.affinity ?? 'nobody'}, its BlockAffinity says ${a.spec.node}`,
      );
    }
  }

  return {
    ok: problems.length === 0,
    pools: pools.length,
    blocks: s.blocks.length,
    allocated,
    handles: indexed.size,
    problems,
  };
}

type Counts = Map<string, Map<string, number>>; // handle → block → addresses

/** Where `a` counts more addresses for a handle in a block than `b` does. */
function shortfalls(a: Counts, b: Counts): { handle: string; block: string; count: number; other: number }[] {
  const out: { handle: string; block: string; count: number; other: number }[] = [];
  for (const [handle, perBlock] of a) {
    for (const [block, count] of perBlock) {
      const other = b.get(handle)?.get(block) ?? 0;
      if (other < count) out.push({ handle, block, count, other });
    }
  }
  return out;
}

function checkBlockShape(
  spec: IpamSnapshot['blocks'][number]['spec'],
  add: (kind: ProblemKind, message: string) => void,
): void {
  const where = `block ${spec.cidr}`;
  const size = Number(cidrSize(parseCidr(spec.cidr)));
  if (spec.allocations.length !== size) {
    add('block-corrupt', `${where}: ${spec.allocations.length} allocation slots for ${size} addresses`);
  }
  const free = new Set<number>();
  for (const f of spec.free) {
    if (!Number.isInteger(f.ordinal) || f.ordinal < 0 || f.ordinal >= size) {
      add('block-corrupt', `${where}: free ordinal ${f.ordinal} is out of range`);
    } else if (free.has(f.ordinal)) {
      add('block-corrupt', `${where}: ordinal ${f.ordinal} is listed free twice (it would be given twice)`);
    }
    free.add(f.ordinal);
  }
  spec.allocations.forEach((index, ordinal) => {
    const isFree = free.has(ordinal);
    if (index === null && !isFree)
      add('block-corrupt', `${where}: ordinal ${ordinal} is neither free nor allocated`);
    if (index !== null && isFree)
      add('block-corrupt', `${where}: ordinal ${ordinal} is both free and allocated`);
    if (index !== null && !spec.attributes[index])
      add('block-corrupt', `${where}: ordinal ${ordinal} points to missing attributes`);
  });
}
