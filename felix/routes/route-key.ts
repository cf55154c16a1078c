// Keys and comparison of routes (pure). Both sides are canonical (canonicalRoute /
// normalizeKernelRoute); a wanted nexthop without a device matches the device the kernel chose.
import { MAIN_TABLE } from '../../kernel/route-spec.js';
import type { KernelRoute, Route, RouteKey } from './types.js';

export const routeKey = (table: number | undefined, dst: string): RouteKey => `${table ?? MAIN_TABLE}|${dst}`;

export const keyOf = (r: Route | KernelRoute): RouteKey => routeKey(r.table, r.dst);

/** The devices a route names: its own and its nexthops' (a nexthop without one names none). */
export function devicesOf(r: Route | KernelRoute): string[] {
  const devs = r.dev ? [r.dev] : [];
  for (const nh of r.nexthops ?? []) if (nh.dev) devs.push(nh.dev);
  return devs;
}

/** Whether the kernel route `have` is what `want` asks for (metric aside). */
export function routeMatches(want: Route | KernelRoute, have: Route | KernelRoute): boolean {
  if (
    want.dst !== have.dst ||
    want.family !== have.family ||
    (want.table ?? MAIN_TABLE) !== (have.table ?? MAIN_TABLE) ||
    want.type !== have.type ||
    want.scope !== have.scope ||
    want.dev !== have.dev
  ) {
    return false;
  }
  const a = want.nexthops ?? [];
  const b = have.nexthops ?? [];
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.via !== y.via || (x.dev !== undefined && x.dev !== y.dev)) return false;
  }
  return true;
}

/** Whether two canonical routes are the same in every field. */
export const sameRoute = (a: Route, b: Route): boolean => routeMatches(a, b) && routeMatches(b, a);

/** A short text for logs: `10.244.1.0/26 blackhole`, `10.244.2.0/26 via 198.18.0.1,198.18.0.3`. */
export function describeRoute(r: Route | KernelRoute): string {
  const table = r.table !== undefined && r.table !== MAIN_TABLE ? ` table ${r.table}` : '';
  if (r.type !== 'unicast') return `${r.dst} ${r.type}${table}`;
  if (r.nexthops?.length) {
    return `${r.dst} via ${r.nexthops.map((n) => (n.dev ? `${n.via}@${n.dev}` : n.via)).join(',')}${table}`;
  }
  return `${r.dst} dev ${r.dev ?? '?'}${table}`;
}
