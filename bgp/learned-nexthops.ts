// Which next hops of a best-path set can become a kernel route. Pure.
import { cidrContains, parseCidr, parseIp } from '../common/addr.js';
import type { BestPaths } from './gobgp-api.js';

/** Why a prefix (or some of its next hops) is not installed. */
export type SkipReason =
  /** A default route: tabby never takes one from BGP (the import policy rejects them too). */
  | 'default-route'
  /** Only next hops that are this node's own addresses. */
  | 'own-next-hop'
  /** Only IPv6 link-local next hops: such a route needs the device it was learned on. */
  | 'link-local-next-hop'
  /** Next hops of the other family or not addresses at all. */
  | 'unusable-next-hop';

export interface UsableNextHops {
  /** Canonical, deduplicated, sorted; empty: nothing to install for the prefix. */
  nextHops: string[];
  /** Set when next hops were given but none is usable. */
  skipped?: SkipReason;
}

const LINK_LOCAL = parseCidr('fe80::/10');

interface NextHop {
  family: 4 | 6;
  address: string;
  linkLocal: boolean;
}

/**
 * Parsed next hops by text. A table has few distinct next hops (its peers' addresses) but up to
 * tens of thousands of prefixes; parsing each occurrence was most of an event's cost.
 */
const parsed = new Map<string, NextHop | null>();
const PARSED_MAX = 4096;

function parseNextHop(text: string): NextHop | null {
  let hop = parsed.get(text);
  if (hop !== undefined) return hop;
  try {
    const ip = parseIp(text);
    hop = { ...ip, linkLocal: ip.family === 6 && cidrContains(LINK_LOCAL, ip.address) };
  } catch {
    hop = null;
  }
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(text, hop);
  return hop;
}

/**
 * The next hops to install for `p`: none for locally originated prefixes and default routes;
 * this node's own addresses, link-local IPv6 addresses, unspecified addresses and addresses of
 * the other family dropped.
 */
export function usableNextHops(p: BestPaths, own: ReadonlySet<string>): UsableNextHops {
  if (p.local || p.nextHops.length === 0) return { nextHops: [] };
  if (p.prefix.endsWith('/0')) return { nextHops: [], skipped: 'default-route' };
  const out = new Set<string>();
  let reason: SkipReason = 'unusable-next-hop';
  for (const text of p.nextHops) {
    const hop = parseNextHop(text);
    if (!hop || hop.family !== p.family) continue;
    const { address } = hop;
    if (address === '0.0.0.0' || address === '::') continue;
    if (own.has(address)) {
      reason = 'own-next-hop';
      continue;
    }
    if (hop.linkLocal) {
      reason = 'link-local-next-hop';
      continue;
    }
    out.add(address);
  }
  if (out.size === 0) return { nextHops: [], skipped: reason };
  return { nextHops: [...out].sort() };
}

export const sameNextHops = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((h, i) => h === b[i]);
