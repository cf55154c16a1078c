import { describe, expect, it } from 'vitest';
import { type IpJsonRoute, parseJsonRoute } from './route-json.js';
import { groupMonitorLines, parseRouteEvent } from './route-monitor.js';
import { canonicalRoute } from './route-spec.js';

// Captured from `ip -N monitor route` (iproute2 6.1).
const captured = [
  'Deleted 10.244.1.7 dev v1 proto 201 scope 253 ',
  '10.244.1.7 dev v1 proto 201 scope 253 ',
  '2001:db8:2::/122 proto 201 metric 1024 pref medium',
  '\tnexthop via 2001:db8::2 dev v1 weight 1 ',
  '\tnexthop via 2001:db8::3 dev v1 weight 1 ',
  '10.244.4.0/26 via 198.18.0.3 dev v1 table 100 proto 201 ',
  'Deleted 6 2001:db8:1::/122 dev lo proto 201 metric 1024 pref medium',
  '6 10.244.80.0/24 proto 201 ',
  '10.244.82.0/24 via 198.18.0.1 dev v1 proto 201 metric 50 ',
  'Deleted 2 fe80::d043:7dff:fe0d:b30f dev v3 table 255 proto 2 metric 0 pref medium',
  '10.244.2.0/26 proto 201 ',
  '\tnexthop via 198.18.0.1 dev v1 weight 1 ',
  '\tnexthop via 198.18.0.3 dev v1 weight 1 linkdown ',
  'default via 198.18.0.1 dev v1 proto 4 ',
  '10.99.0.0/24 via 198.18.0.1 dev v1 ',
];

describe('ip monitor route lines', () => {
  const events = groupMonitorLines(captured).map(parseRouteEvent);

  it('groups ECMP nexthop lines with their head line', () => {
    expect(groupMonitorLines(captured).map((g) => g.length)).toEqual([1, 1, 3, 1, 1, 1, 1, 1, 3, 1, 1]);
  });

  it('reads device routes, deletions, tables, metrics and numeric types', () => {
    expect(events[0]).toEqual({
      deleted: true,
      route: {
        family: 4,
        dst: '10.244.1.7/32',
        type: 'unicast',
        dev: 'v1',
        scope: 'link',
        table: 254,
        protocol: 201,
        metric: 0,
      },
    });
    expect(events[3]?.route).toMatchObject({ table: 100, nexthops: [{ via: '198.18.0.3', dev: 'v1' }] });
    expect(events[4]).toEqual({
      deleted: true,
      route: {
        family: 6,
        dst: '2001:db8:1::/122',
        type: 'blackhole',
        table: 254,
        protocol: 201,
        metric: 1024,
      },
    });
    expect(events[5]?.route).toEqual({
      family: 4,
      dst: '10.244.80.0/24',
      type: 'blackhole',
      table: 254,
      protocol: 201,
      metric: 0,
    });
    expect(events[6]?.route.metric).toBe(50);
    expect(events[7]?.route).toMatchObject({ type: 'local', table: 255, protocol: 2, family: 6 });
  });

  it('reads ECMP events in the same form as the JSON listing', () => {
    const listed = parseJsonRoute(6, {
      dst: '2001:db8:2::/122',
      protocol: '201',
      metric: 1024,
      nexthops: [
        { gateway: '2001:db8::3', dev: 'v1' },
        { gateway: '2001:db8::2', dev: 'v1' },
      ],
    } satisfies IpJsonRoute);
    expect(events[2]?.route).toEqual(listed);
    expect(events[8]?.route.nexthops).toEqual([
      { via: '198.18.0.1', dev: 'v1' },
      { via: '198.18.0.3', dev: 'v1' },
    ]);
  });

  it('takes the family of `default` from its gateway, and a missing proto as boot', () => {
    expect(events[9]?.route).toMatchObject({ family: 4, dst: '0.0.0.0/0', protocol: 4 });
    expect(events[10]?.route.protocol).toBe(3);
  });

  it('an event of a desired route matches its canonical form', () => {
    const { protocol: _p, metric: _m, ...route } = events[1]?.route ?? {};
    expect(route).toEqual(canonicalRoute({ family: 4, dst: '10.244.1.7/32', type: 'unicast', dev: 'v1' }));
  });

  it('returns undefined for lines it cannot read', () => {
    expect(parseRouteEvent(['garbage'])).toBeUndefined();
    expect(parseRouteEvent([])).toBeUndefined();
  });
});
