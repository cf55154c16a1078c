// Validating and normalising an assign request before it joins a node's batch. Errors name the
// offending field.
import { type IpFamily, parseIp } from '../common/addr.js';
import type { AllocationRequestAttributes } from './block.js';
import { IpamError } from './errors.js';
import type { AssignOptions } from './types.js';

export const MAX_ADDRESSES_PER_FAMILY = 64;

export interface AssignRequest {
  handle: string;
  node: string;
  need: Record<IpFamily, number>;
  specific: { family: IpFamily; address: string }[];
  /** Pool names or CIDRs as given; matched to a family once pools are loaded. */
  pools: string[];
  attrs: AllocationRequestAttributes;
}

const invalid = (field: string, why: string) => new IpamError('InvalidArgument', `${field}: ${why}`);

function count(field: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ADDRESSES_PER_FAMILY) {
    throw invalid(
      field,
      `must be an integer from 0 to ${MAX_ADDRESSES_PER_FAMILY}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());

export function assignRequest(handle: string, node: string, opts: AssignOptions): AssignRequest {
  if (typeof handle !== 'string' || handle.length === 0 || handle.length > 512) {
    throw invalid('handle', 'must be a non-empty string of at most 512 characters');
  }
  if (typeof node !== 'string' || node.length === 0) throw invalid('node', 'must be a non-empty string');
  const need = { 4: count('v4', opts.v4), 6: count('v6', opts.v6) } as Record<IpFamily, number>;
  const specific = list(opts.ip).map((text, i) => {
    try {
      return parseIp(text);
    } catch (e) {
      throw invalid(`ip[${i}]`, (e as Error).message);
    }
  });
  if (new Set(specific.map((s) => s.address)).size !== specific.length)
    throw invalid('ip', 'lists an address twice');
  if (need[4] + need[6] + specific.length === 0) {
    throw invalid('v4/v6/ip', 'the request asks for no address');
  }
  const pools = list(opts.pool);
  for (const [i, p] of pools.entries()) {
    if (typeof p !== 'string' || p.length === 0) throw invalid(`pool[${i}]`, 'must be a pool name or CIDR');
  }
  const attrs: AllocationRequestAttributes = { handle, node };
  if (opts.attrs?.namespace) attrs.namespace = opts.attrs.namespace;
  if (opts.attrs?.pod) attrs.pod = opts.attrs.pod;
  return { handle, node, need, specific, pools, attrs };
}
