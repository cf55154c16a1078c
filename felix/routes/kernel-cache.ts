// What the reconciler believes the kernel holds: tabby-protocol routes by key. Filled by a full
// list, then kept current from the results of its own writes.
import { defaultMetric, type KernelRoute, MAIN_TABLE } from '../../kernel/route-spec.js';
import { keyOf } from './route-key.js';
import type { Route, RouteKey } from './types.js';

export class KernelCache {
  private byKey = new Map<RouteKey, KernelRoute[]>();

  replaceAll(routes: readonly KernelRoute[]): void {
    const next = new Map<RouteKey, KernelRoute[]>();
    for (const r of routes) {
      const key = keyOf(r);
      const list = next.get(key);
      if (list) list.push(r);
      else next.set(key, [r]);
    }
    this.byKey = next;
  }

  get(key: RouteKey): readonly KernelRoute[] {
    return this.byKey.get(key) ?? [];
  }

  keys(): IterableIterator<RouteKey> {
    return this.byKey.keys();
  }

  /** Records a successful add/replace of `route` (at the kernel's default metric). */
  written(route: Route, protocol: number): void {
    const metric = defaultMetric(route.family);
    const entry: KernelRoute = { ...route, table: route.table ?? MAIN_TABLE, protocol, metric };
    const key = keyOf(route);
    this.byKey.set(key, [...this.get(key).filter((r) => r.metric !== metric), entry]);
  }

  /** Records a successful delete (or a route found gone) at `route`'s key and metric. */
  deleted(route: KernelRoute): void {
    const key = keyOf(route);
    const rest = this.get(key).filter((r) => r.metric !== route.metric);
    if (rest.length > 0) this.byKey.set(key, rest);
    else this.byKey.delete(key);
  }

  all(): KernelRoute[] {
    return [...this.byKey.values()].flat();
  }
}
