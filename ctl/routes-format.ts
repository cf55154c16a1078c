// `tabby routes`: the routes tabby owns in this node's FIB (its route protocol), grouped by what
// they are for: pods on this node, blackholes of the node's blocks, routes learned over BGP. Pure.

import { table } from '../common/table.js';
import type { KernelRoute } from '../kernel/route-spec.js';

export type RouteRole = 'pod' | 'block' | 'bgp' | 'other';

export function routeRole(r: KernelRoute): RouteRole {
  if (r.type === 'blackhole') return 'block';
  if ((r.nexthops?.length ?? 0) > 0) return 'bgp';
  if (r.dev) return 'pod';
  return 'other';
}

const TITLES: Record<RouteRole, string> = {
  pod: 'pods on this node',
  block: "this node's blocks (blackholes: addresses not in use go nowhere)",
  bgp: 'learned over BGP',
  other: 'other',
};

function target(r: KernelRoute): string {
  if (r.type === 'blackhole') return 'blackhole';
  const hops = r.nexthops ?? [];
  if (hops.length > 0) return hops.map((h) => `via ${h.via}${h.dev ? ` dev ${h.dev}` : ''}`).join(', ');
  return `dev ${r.dev ?? '?'}`;
}

const byDestination = (a: KernelRoute, b: KernelRoute) =>
  a.family - b.family || a.dst.localeCompare(b.dst, 'en', { numeric: true });

export function formatRoutes(routes: readonly KernelRoute[], protocol: number): string {
  if (routes.length === 0) return `no routes with protocol ${protocol} (is the agent running on this node?)`;
  const out: string[] = [];
  for (const role of ['pod', 'block', 'bgp', 'other'] as const) {
    const mine = routes.filter((r) => routeRole(r) === role).sort(byDestination);
    if (mine.length === 0) continue;
    out.push(`${TITLES[role]} (${mine.length})`);
    const rows = mine.map((r) => [`  ${r.dst}`, target(r), r.table === 254 ? '' : `table ${r.table}`]);
    out.push(table(rows), '');
  }
  return out.join('\n').trimEnd();
}
