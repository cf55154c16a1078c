// Desired state per source, and the winner per key by source precedence (pure, no I/O).
import { keyOf, sameRoute } from './route-key.js';
import { type Route, type RouteKey, type RouteSource, SOURCE_PRECEDENCE } from './types.js';

export class DesiredRoutes {
  private readonly bySource = new Map<RouteSource, Map<RouteKey, Route>>(
    SOURCE_PRECEDENCE.map((s) => [s, new Map<RouteKey, Route>()]),
  );

  private source(source: RouteSource): Map<RouteKey, Route> {
    const routes = this.bySource.get(source);
    if (!routes) throw new Error(`unknown route source ${JSON.stringify(source)}`);
    return routes;
  }

  /** Replaces a source's whole set (routes canonical); returns the keys whose entry changed. */
  set(source: RouteSource, routes: readonly Route[]): RouteKey[] {
    const old = this.source(source);
    const next = new Map<RouteKey, Route>();
    for (const r of routes) next.set(keyOf(r), r);
    const changed: RouteKey[] = [];
    for (const [key, r] of next) {
      const before = old.get(key);
      if (!before || !sameRoute(before, r)) changed.push(key);
    }
    for (const key of old.keys()) if (!next.has(key)) changed.push(key);
    this.bySource.set(source, next);
    return changed;
  }

  /** Adds or replaces one route (canonical); returns its key if anything changed. */
  upsert(source: RouteSource, route: Route): RouteKey | undefined {
    const routes = this.source(source);
    const key = keyOf(route);
    const before = routes.get(key);
    if (before && sameRoute(before, route)) return undefined;
    routes.set(key, route);
    return key;
  }

  /** Removes a source's route at `key`; returns whether there was one. */
  remove(source: RouteSource, key: RouteKey): boolean {
    return this.source(source).delete(key);
  }

  /** The route the highest-precedence source wants at `key`. */
  winner(key: RouteKey): { source: RouteSource; route: Route } | undefined {
    for (const source of SOURCE_PRECEDENCE) {
      const route = this.bySource.get(source)?.get(key);
      if (route) return { source, route };
    }
    return undefined;
  }

  /** Every key some source wants. */
  keys(): Set<RouteKey> {
    const keys = new Set<RouteKey>();
    for (const routes of this.bySource.values()) for (const key of routes.keys()) keys.add(key);
    return keys;
  }

  /** The winning route of every key. */
  winners(): Route[] {
    const out: Route[] = [];
    for (const key of this.keys()) {
      const w = this.winner(key);
      if (w) out.push(w.route);
    }
    return out;
  }
}
