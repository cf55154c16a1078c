// IP pools as the allocator sees them: parsed, defaulted, checked for overlap, and filtered by
// family, node selector and state. Pure.
import {
  type AddressError,
  type Cidr,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  type IpFamily,
  parseCidr,
} from '../common/addr.js';
import type { IPPool, LabelSelector } from '../datastore/resources.js';
import { IpamError } from './errors.js';
import { selectorMatches } from './selector.js';

export const DEFAULT_BLOCK_SIZE: Record<IpFamily, number> = { 4: 26, 6: 122 };
const BLOCK_SIZE_RANGE: Record<IpFamily, [number, number]> = { 4: [20, 32], 6: [116, 128] };

export interface Pool {
  name: string;
  cidr: Cidr;
  blockSize: number;
  nodeSelector?: LabelSelector;
  disabled: boolean;
  createdAt: string;
}

/** Parses and defaults a stored pool; a pool the API server should have refused is an error. */
export function toPool(r: IPPool): Pool {
  const where = `IPPool ${r.metadata.name}`;
  let cidr: Cidr;
  try {
    cidr = parseCidr(r.spec.cidr);
  } catch (e) {
    throw new IpamError('InvalidArgument', `${where}: spec.cidr: ${(e as AddressError).message}`);
  }
  const blockSize = r.spec.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family];
  const [min, max] = BLOCK_SIZE_RANGE[cidr.family];
  if (!Number.isInteger(blockSize) || blockSize < Math.max(min, cidr.prefixLength) || blockSize > max) {
    throw new IpamError(
      'InvalidArgument',
      `${where}: spec.blockSize ${blockSize} must be between ${Math.max(min, cidr.prefixLength)} and ${max}`,
    );
  }
  return {
    name: r.metadata.name,
    cidr,
    blockSize,
    ...(r.spec.nodeSelector ? { nodeSelector: r.spec.nodeSelector } : {}),
    disabled: r.spec.disabled ?? false,
    createdAt: r.metadata.creationTimestamp ?? '',
  };
}

/** Pools that parse; the ones that do not (stored before validation existed) are set aside. */
export function readPools(resources: IPPool[]): { pools: Pool[]; invalid: IpamError[] } {
  const pools: Pool[] = [];
  const invalid: IpamError[] = [];
  for (const r of resources) {
    try {
      pools.push(toPool(r));
    } catch (e) {
      if (!(e instanceof IpamError)) throw e;
      invalid.push(e);
    }
  }
  return { pools, invalid };
}

/** The pools the allocator may use: valid and not overlapping an older pool. */
export const usablePools = (resources: IPPool[]): Pool[] => partitionPools(readPools(resources).pools).usable;

const olderFirst = (a: Pool, b: Pool) =>
  a.createdAt === b.createdAt ? a.name.localeCompare(b.name) : a.createdAt < b.createdAt ? -1 : 1;

export interface PoolOverlap {
  pool: string;
  cidr: string;
  /** The older pool it overlaps, which keeps the addresses. */
  overlaps: string;
  overlapsCidr: string;
}

/**
 * Splits pools into those the allocator may use and those it ignores because they overlap an
 * older pool (two pools handing out the same address would give it twice).
 */
export function partitionPools(pools: Pool[]): { usable: Pool[]; overlapping: PoolOverlap[] } {
  const usable: Pool[] = [];
  const overlapping: PoolOverlap[] = [];
  for (const p of [...pools].sort(olderFirst)) {
    const older = usable.find((u) => cidrsOverlap(u.cidr, p.cidr));
    if (older) {
      overlapping.push({
        pool: p.name,
        cidr: formatCidr(p.cidr),
        overlaps: older.name,
        overlapsCidr: formatCidr(older.cidr),
      });
    } else {
      usable.push(p);
    }
  }
  usable.sort((a, b) => a.name.localeCompare(b.name));
  return { usable, overlapping };
}

/**
 * The pools a node may claim new blocks from, for one family: enabled, selecting the node, and
 * (when `requested` names a pool by name or CIDR) that pool only. Throws NoPool naming why.
 */
export function eligiblePools(
  usable: Pool[],
  family: IpFamily,
  node: string,
  nodeLabels: Record<string, string>,
  requested?: string,
): Pool[] {
  const ofFamily = usable.filter((p) => p.cidr.family === family);
  if (requested !== undefined) {
    const pool = ofFamily.find((p) => p.name === requested || formatCidr(p.cidr) === requested);
    if (!pool) throw new IpamError('NoPool', `no usable IPv${family} pool named "${requested}"`);
    if (pool.disabled) throw new IpamError('NoPool', `IPPool ${pool.name} is disabled`);
    if (!selectorMatches(pool.nodeSelector, nodeLabels)) {
      throw new IpamError('NoPool', `IPPool ${pool.name} does not select node ${node}`);
    }
    return [pool];
  }
  const eligible = ofFamily.filter((p) => !p.disabled && selectorMatches(p.nodeSelector, nodeLabels));
  if (eligible.length === 0) {
    throw new IpamError(
      'NoPool',
      ofFamily.length === 0
        ? `no IPv${family} IPPool exists`
        : `no enabled IPv${family} IPPool selects node ${node} (pools: ${ofFamily.map((p) => p.name).join(', ')})`,
    );
  }
  return eligible;
}

export const poolContaining = (pools: Pool[], address: string): Pool | undefined =>
  pools.find((p) => {
    try {
      return cidrContains(p.cidr, address);
    } catch {
      return false;
    }
  });

/** The block of `pool` that holds `address`. */
export function blockCidrFor(pool: Pool, address: string): Cidr {
  return parseCidr(`${address}/${pool.blockSize}`, { strict: false });
}

/** Whether a block lies inside a pool. */
export const poolHoldsBlock = (pool: Pool, block: Cidr): boolean =>
  block.prefixLength >= pool.cidr.prefixLength && cidrContains(pool.cidr, block.network);
