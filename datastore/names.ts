// Object names and label values derived from CIDRs and node names. Kubernetes names are DNS-1123
// subdomains and label values at most 63 characters, so both are derived, never taken verbatim.
import { createHash } from 'node:crypto';
import { type Cidr, parseCidr, toBigInt } from '../common/addr.js';
import { NODE_LABEL } from './resources.js';

/**
 * Object name of a CIDR: "10.244.0.64/26" → "10-244-0-64-26"; IPv6 is written out in full
 * groups ("fd00::/122" → "fd00-0-0-0-0-0-0-0-122") so names never start or end with a dash.
 */
export function cidrResourceName(cidr: string | Cidr): string {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  if (c.family === 4) return `${c.network.replaceAll('.', '-')}-${c.prefixLength}`;
  const value = toBigInt(c.network);
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return `${groups.join('-')}-${c.prefixLength}`;
}

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)$/;

/** Value of the node label: the node name when it is a valid label value, else a stable hash. */
export function nodeLabelValue(node: string): string {
  if (LABEL_VALUE.test(node)) return node;
  return `h-${createHash('sha256').update(node).digest('hex').slice(0, 40)}`;
}

/** The labels that mark an object as `node`'s (and select it in a list). */
export const labelsForNode = (node: string): Record<string, string> => ({
  [NODE_LABEL]: nodeLabelValue(node),
});
