// Desired vs kernel for a set of keys → the ops that make the kernel match (pure).
//   nothing wanted, tabby route present   → delete it
//   wanted, tabby route present, differs → replace (the slot is tabby's, replacing is safe)
//   wanted, no tabby route               → add, never replace: a foreign route in the slot makes
//                                           the add fail with EEXIST and stays untouched
//   tabby routes at a non-default metric  → delete (tabby never writes a metric)
import type { RouteOp } from '../../kernel/route-batch.js';
import { defaultMetric, type KernelRoute } from '../../kernel/route-spec.js';
import { routeMatches } from './route-key.js';
import type { Route, RouteKey } from './types.js';

export interface PlannedOp {
  key: RouteKey;
  op: RouteOp;
}

export interface RoutePlan {
  ops: PlannedOp[];
  /** Keys already as wanted: nothing to do. */
  converged: RouteKey[];
}

export function planRouteOps(
  keys: Iterable<RouteKey>,
  wanted: (key: RouteKey) => Route | undefined,
  present: (key: RouteKey) => readonly KernelRoute[],
  protocol: number,
): RoutePlan {
  const ops: PlannedOp[] = [];
  const converged: RouteKey[] = [];
  for (const key of keys) {
    const want = wanted(key);
    const have = present(key);
    const before = ops.length;
    let primary: KernelRoute | undefined;
    for (const r of have) {
      if (r.metric !== defaultMetric(r.family)) ops.push({ key, op: { op: 'delete', route: r, protocol } });
      else primary ??= r;
    }
    if (!want) {
      if (primary) ops.push({ key, op: { op: 'delete', route: primary, protocol } });
    } else if (!primary) {
      ops.push({ key, op: { op: 'add', route: want, protocol } });
    } else if (!routeMatches(want, primary)) {
      ops.push({ key, op: { op: 'replace', route: want, protocol } });
    }
    if (ops.length === before) converged.push(key);
  }
  return { ops, converged };
}
