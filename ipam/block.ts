// Pure operations on one IPAMBlock's spec: handing out ordinals in free-list order (skipping
// those still cooling down), taking a specific one, releasing, and reading who holds what.
// The mutating functions change the spec they are given; callers work on a copy and write it
// back with a compare-and-swap.
import { addressAt, type Cidr, cidrSize, offsetIn, parseCidr } from '../common/addr.js';
import type { AllocationAttributes, IPAMBlockSpec } from '../datastore/resources.js';

/** What a new allocation records; the block stamps the sequence. */
export type AllocationRequestAttributes = Omit<AllocationAttributes, 'sequence'>;

export interface Holding {
  ordinal: number;
  address: string;
  attributes: AllocationAttributes;
  /** When just taken from the free list: the release stamp it had (kept if the grant is undone). */
  releasedAt?: string;
}

export function newBlockSpec(cidr: Cidr, affinity?: string): IPAMBlockSpec {
  const size = Number(cidrSize(cidr));
  return {
    cidr: `${cidr.network}/${cidr.prefixLength}`,
    ...(affinity ? { affinity } : {}),
    allocations: new Array<number | null>(size).fill(null),
    attributes: [],
    free: Array.from({ length: size }, (_, ordinal) => ({ ordinal })),
    sequence: 0,
  };
}

export const blockCidr = (spec: IPAMBlockSpec): Cidr => parseCidr(spec.cidr);
export const addressOf = (spec: IPAMBlockSpec, ordinal: number): string =>
  addressAt(blockCidr(spec), ordinal);
export const ordinalOf = (spec: IPAMBlockSpec, address: string): number =>
  Number(offsetIn(blockCidr(spec), address));

const coolingDown = (releasedAt: string | undefined, nowMs: number, cooldownMs: number) =>
  releasedAt !== undefined && Date.parse(releasedAt) + cooldownMs > nowMs;

/** Free ordinals that may be handed out now. */
export function availableCount(spec: IPAMBlockSpec, nowMs: number, cooldownMs: number): number {
  let n = 0;
  for (const f of spec.free) if (!coolingDown(f.releasedAt, nowMs, cooldownMs)) n++;
  return n;
}

export const allocatedCount = (spec: IPAMBlockSpec): number =>
  spec.allocations.reduce<number>((n, a) => (a === null ? n : n + 1), 0);

function record(spec: IPAMBlockSpec, ordinal: number, attrs: AllocationRequestAttributes): Holding {
  const attributes: AllocationAttributes = { ...attrs, sequence: spec.sequence };
  spec.attributes.push(attributes);
  spec.allocations[ordinal] = spec.attributes.length - 1;
  return { ordinal, address: addressOf(spec, ordinal), attributes };
}

/**
 * Takes up to `count` ordinals from the front of the free list, skipping those released less
 * than `cooldownMs` ago. Returns what it took (fewer than `count` when the block runs out).
 */
export function allocateNext(
  spec: IPAMBlockSpec,
  count: number,
  attrs: AllocationRequestAttributes,
  nowMs: number,
  cooldownMs: number,
): Holding[] {
  const taken: Holding[] = [];
  if (count <= 0) return taken;
  spec.sequence += 1;
  const keep: IPAMBlockSpec['free'] = [];
  for (const f of spec.free) {
    if (taken.length < count && !coolingDown(f.releasedAt, nowMs, cooldownMs)) {
      const h = record(spec, f.ordinal, attrs);
      if (f.releasedAt !== undefined) h.releasedAt = f.releasedAt;
      taken.push(h);
    } else {
      keep.push(f);
    }
  }
  spec.free = keep;
  return taken;
}

/**
 * Takes one specific ordinal (cooldown does not apply: the caller asked for this address).
 * Returns the current holder instead when it is taken.
 */
export function allocateOrdinal(
  spec: IPAMBlockSpec,
  ordinal: number,
  attrs: AllocationRequestAttributes,
): { taken: Holding } | { heldBy: AllocationAttributes } {
  const held = spec.allocations[ordinal];
  if (held !== null && held !== undefined) {
    return { heldBy: spec.attributes[held] as AllocationAttributes };
  }
  spec.sequence += 1;
  const entry = spec.free.find((f) => f.ordinal === ordinal);
  spec.free = spec.free.filter((f) => f.ordinal !== ordinal);
  const taken = record(spec, ordinal, attrs);
  if (entry?.releasedAt !== undefined) taken.releasedAt = entry.releasedAt;
  return { taken };
}

/** Everything allocated in the block. */
export function holdings(spec: IPAMBlockSpec): Holding[] {
  const out: Holding[] = [];
  spec.allocations.forEach((index, ordinal) => {
    if (index === null) return;
    const attributes = spec.attributes[index];
    if (attributes) out.push({ ordinal, address: addressOf(spec, ordinal), attributes });
  });
  return out;
}

/**
 * Frees every allocation `match` accepts; freed ordinals join the back of the free list stamped
 * with `nowMs` for the cooldown. Returns what was freed.
 */
export function release(spec: IPAMBlockSpec, match: (h: Holding) => boolean, nowMs: number): Holding[] {
  const freed = holdings(spec).filter(match);
  if (freed.length === 0) return freed;
  spec.sequence += 1;
  const releasedAt = new Date(nowMs).toISOString();
  for (const h of freed) {
    spec.allocations[h.ordinal] = null;
    spec.free.push({ ordinal: h.ordinal, releasedAt });
  }
  compactAttributes(spec);
  return freed;
}

/** Drops attribute entries no allocation refers to, renumbering the references. */
function compactAttributes(spec: IPAMBlockSpec): void {
  const attributes: AllocationAttributes[] = [];
  spec.allocations = spec.allocations.map((index) => {
    if (index === null) return null;
    const a = spec.attributes[index];
    if (!a) return null;
    attributes.push(a);
    return attributes.length - 1;
  });
  spec.attributes = attributes;
}

/** Releases stamped longer ago than the cooldown carry no information: drop the stamps. */
export function forgetExpiredCooldowns(spec: IPAMBlockSpec, nowMs: number, cooldownMs: number): void {
  for (const f of spec.free) {
    if (f.releasedAt !== undefined && !coolingDown(f.releasedAt, nowMs, cooldownMs)) delete f.releasedAt;
  }
}

/**
 * Undoes grants that were planned but never written: the ordinals go back to the front of the
 * free list with the release stamps they had, as if never handed out.
 */
export function unallocate(spec: IPAMBlockSpec, grants: Holding[]): void {
  if (grants.length === 0) return;
  for (const g of grants) spec.allocations[g.ordinal] = null;
  const back = grants.map((g) =>
    g.releasedAt === undefined ? { ordinal: g.ordinal } : { ordinal: g.ordinal, releasedAt: g.releasedAt },
  );
  spec.free = [...back, ...spec.free];
  compactAttributes(spec);
}
