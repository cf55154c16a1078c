// What `ip monitor route` lines mean for the reconciler (pure). Events that agree with the
// kernel cache (tabby's own writes, echoed back) change nothing; a tabby-protocol route that
// appears, changes or disappears behind tabby's back asks for a full resync. Foreign events
// only matter where they free a conflicted slot or take over one of tabby's, and as a hint
// that a device a pending route waits for has appeared.
import { groupMonitorLines, parseRouteEvent } from '../../kernel/route-monitor.js';
import type { KernelRoute } from '../../kernel/route-spec.js';
import { devicesOf, keyOf, routeMatches } from './route-key.js';
import type { RouteKey } from './types.js';

export interface EventContext {
  protocol: number;
  /** tabby routes the reconciler believes the kernel holds at `key`. */
  cached(key: RouteKey): readonly KernelRoute[];
  isConflicted(key: RouteKey): boolean;
  /** Keys of routes waiting for device `dev`. */
  pendingOn(dev: string): RouteKey[];
}

export interface EventVerdict {
  /** Something changed behind tabby's back: list and diff everything. */
  resync: boolean;
  /** Keys worth retrying now (a conflicted slot was freed, a pending device appeared). */
  retry: Set<RouteKey>;
  /** A line tabby could not read, for the log. */
  unreadable?: string;
}

export function interpretRouteEvents(lines: readonly string[], ctx: EventContext): EventVerdict {
  const verdict: EventVerdict = { resync: false, retry: new Set() };
  const ours = new RegExp(`\\bproto ${ctx.protocol}\\b`);
  for (const group of groupMonitorLines(lines)) {
    const event = parseRouteEvent(group);
    if (!event) {
      if (ours.test(group.join(' '))) {
        verdict.resync = true;
        verdict.unreadable = group.join(' ');
      }
      continue;
    }
    const { route, deleted } = event;
    const key = keyOf(route);
    const sameSlot = ctx.cached(key).filter((c) => c.metric === route.metric);
    if (route.protocol === ctx.protocol) {
      // A deletion of a slot tabby believes empty, or a write identical to what it believes, is
      // its own doing echoed back.
      const agrees = deleted ? sameSlot.length === 0 : sameSlot.some((c) => routeMatches(c, route));
      if (!agrees) verdict.resync = true;
    } else if (!deleted && sameSlot.length > 0) {
      verdict.resync = true; // a foreign route took over one of tabby's slots
    } else if (deleted && ctx.isConflicted(key)) {
      verdict.retry.add(key);
    }
    if (!deleted)
      for (const dev of devicesOf(route)) for (const k of ctx.pendingOn(dev)) verdict.retry.add(k);
  }
  return verdict;
}
