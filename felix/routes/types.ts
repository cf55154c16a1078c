// The route table's vocabulary: routes, their sources and keys, what a snapshot shows.
import type { IpFamily } from '../../common/addr.js';
import type { KernelRoute, RouteSpec } from '../../kernel/route-spec.js';

export type { IpFamily, KernelRoute };

/** A route tabby wants in the FIB (canonicalized on the way in; see canonicalRoute). */
export type Route = RouteSpec;

/** Who wants a route. When several want one destination, the earliest in SOURCE_PRECEDENCE wins. */
export type RouteSource = 'local' | 'blocks' | 'bgp';

/** Highest precedence first: pod /32s, then block blackholes, then routes learned over BGP. */
export const SOURCE_PRECEDENCE: readonly RouteSource[] = ['local', 'blocks', 'bgp'];

/** `table|dst`: one kernel slot (the metric is always the kernel's default for tabby's routes). */
export type RouteKey = string;

export interface RouteConflict {
  route: Route;
  reason: string;
}

export interface RouteTableSnapshot {
  /** The winning route for each desired destination. */
  desired: Route[];
  /** tabby-protocol routes in the kernel, as last listed or written. */
  kernel: KernelRoute[];
  /** Desired routes not installed because a foreign route holds the destination. */
  conflicts: RouteConflict[];
  /** Desired routes waiting for their device (missing or down). */
  pending: Route[];
}

export class RouteTableStoppedError extends Error {
  readonly code = 'TABBY_ROUTE_TABLE_STOPPED';
  constructor() {
    super('route table is stopped');
    this.name = 'RouteTableStoppedError';
  }
}
