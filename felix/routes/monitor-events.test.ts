import { describe, expect, it } from 'vitest';
import { canonicalRoute, type KernelRoute } from '../../kernel/route-spec.js';
import { monitorLines } from './fake-kernel.js';
import { type EventContext, interpretRouteEvents } from './monitor-events.js';
import { keyOf, routeKey } from './route-key.js';
import type { Route, RouteKey } from './types.js';

const bh = canonicalRoute({ family: 4, dst: '10.244.1.0/26', type: 'blackhole' });
const podRoute = canonicalRoute({ family: 4, dst: '10.244.1.7/32', type: 'unicast', dev: 'tbya' });
const ecmp = canonicalRoute({
  family: 6,
  dst: '2001:db8:2::/122',
  type: 'unicast',
  nexthops: [{ via: '2001:db8::2' }, { via: '2001:db8::3' }],
});
const k = (r: Route, protocol = 201, metric = r.family === 4 ? 0 : 1024): KernelRoute => ({
  ...r,
  table: 254,
  protocol,
  metric,
});
const withDevs = (r: KernelRoute): KernelRoute => ({
  ...r,
  nexthops: r.nexthops?.map((n) => ({ ...n, dev: 'eth0' })),
});

function ctx(cached: KernelRoute[], extra: Partial<EventContext> = {}): EventContext {
  const byKey = new Map<RouteKey, KernelRoute[]>();
  for (const r of cached) byKey.set(keyOf(r), [...(byKey.get(keyOf(r)) ?? []), r]);
  return {
    protocol: 201,
    cached: (key) => byKey.get(key) ?? [],
    isConflicted: () => false,
    pendingOn: () => [],
    ...extra,
  };
}

describe('interpretRouteEvents', () => {
  it('ignores tabby events that agree with the cache (its own writes echoed back)', () => {
    const lines = [
      ...monitorLines(false, k(bh)),
      ...monitorLines(false, withDevs(k(ecmp))),
      ...monitorLines(true, k(podRoute)),
    ];
    const v = interpretRouteEvents(lines, ctx([k(bh), k(ecmp)]));
    expect(v.resync).toBe(false);
  });

  it('resyncs when a cached tabby route is deleted or changed behind its back', () => {
    expect(interpretRouteEvents(monitorLines(true, k(bh)), ctx([k(bh)])).resync).toBe(true);
    const changed = k({ ...podRoute, dev: 'tbyother' });
    expect(interpretRouteEvents(monitorLines(false, changed), ctx([k(podRoute)])).resync).toBe(true);
    expect(interpretRouteEvents(monitorLines(false, k(podRoute)), ctx([])).resync).toBe(true);
  });

  it('resyncs when a foreign route takes over a tabby slot; ignores foreign routes elsewhere', () => {
    expect(interpretRouteEvents(monitorLines(false, k(bh, 4)), ctx([k(bh)])).resync).toBe(true);
    expect(interpretRouteEvents(monitorLines(false, k(podRoute, 4)), ctx([k(bh)])).resync).toBe(false);
    expect(interpretRouteEvents(monitorLines(true, k(bh, 4, 0)), ctx([k(bh)])).resync).toBe(false);
  });

  it('retries a conflicted key when the foreign route leaves, and routes pending on a device that appears', () => {
    const conflicted = routeKey(254, bh.dst);
    const v1 = interpretRouteEvents(
      monitorLines(true, k(bh, 4)),
      ctx([], { isConflicted: (key) => key === conflicted }),
    );
    expect([...v1.retry]).toEqual([conflicted]);
    const linkLocal = k(
      canonicalRoute({ family: 6, dst: 'fe80::/64', type: 'unicast', dev: 'tbynew' }),
      2,
      256,
    );
    const v2 = interpretRouteEvents(
      monitorLines(false, linkLocal),
      ctx([], { pendingOn: (dev) => (dev === 'tbynew' ? [keyOf(podRoute)] : []) }),
    );
    expect([...v2.retry]).toEqual([keyOf(podRoute)]);
    expect(v2.resync).toBe(false);
  });

  it('resyncs on an unreadable line that mentions tabby’s protocol, ignores other noise', () => {
    expect(interpretRouteEvents(['??? proto 201 ???'], ctx([])).resync).toBe(true);
    expect(interpretRouteEvents(['??? proto 4 ???', ''], ctx([])).resync).toBe(false);
  });
});
