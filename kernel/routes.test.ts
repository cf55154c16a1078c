import { describe, expect, it } from 'vitest';
import { batchResults, parseBatchStderr, type RouteOp, renderRouteOp } from './route-batch.js';
import { type IpJsonRoute, parseJsonRoute } from './route-json.js';
import { canonicalRoute, RouteSpecError } from './route-spec.js';

describe('canonicalRoute', () => {
  it('fills in the table and the scope the kernel reports (IPv4 only)', () => {
    expect(canonicalRoute({ family: 4, dst: '10.244.1.7/32', type: 'unicast', dev: 'tbyab12' })).toEqual({
      family: 4,
      dst: '10.244.1.7/32',
      type: 'unicast',
      dev: 'tbyab12',
      scope: 'link',
      table: 254,
    });
    expect(
      canonicalRoute({ family: 4, dst: '10.244.2.0/26', type: 'unicast', nexthops: [{ via: '198.18.0.1' }] }),
    ).toEqual({
      family: 4,
      dst: '10.244.2.0/26',
      type: 'unicast',
      nexthops: [{ via: '198.18.0.1' }],
      scope: 'global',
      table: 254,
    });
    expect(
      canonicalRoute({
        family: 6,
        dst: '2001:DB8:0:0::5/128',
        type: 'unicast',
        dev: 'tbyab12',
        scope: 'link',
      }),
    ).toEqual({ family: 6, dst: '2001:db8::5/128', type: 'unicast', dev: 'tbyab12', table: 254 });
    expect(canonicalRoute({ family: 4, dst: '10.244.1.0/26', type: 'blackhole', table: 100 })).toEqual({
      family: 4,
      dst: '10.244.1.0/26',
      type: 'blackhole',
      table: 100,
    });
  });

  it('sorts ECMP nexthops and folds a route-level device into them', () => {
    const r = canonicalRoute({
      family: 4,
      dst: '10.244.2.0/26',
      type: 'unicast',
      dev: 'eth1',
      nexthops: [{ via: '198.18.0.3' }, { via: '198.18.0.1', dev: 'eth0' }],
    });
    expect(r.dev).toBeUndefined();
    expect(r.nexthops).toEqual([
      { via: '198.18.0.1', dev: 'eth0' },
      { via: '198.18.0.3', dev: 'eth1' },
    ]);
  });

  it.each([
    [{ family: 4 as const, dst: '10.244.1.7/24', type: 'unicast' as const, dev: 'x' }, /host bits/],
    [{ family: 4 as const, dst: '2001:db8::/64', type: 'blackhole' as const }, /not an IPv4 prefix/],
    [{ family: 4 as const, dst: '10.0.0.0/8', type: 'unicast' as const }, /needs a device or a gateway/],
    [{ family: 4 as const, dst: '10.0.0.0/8', type: 'blackhole' as const, dev: 'x' }, /no device/],
    [
      { family: 4 as const, dst: '10.0.0.0/8', type: 'unicast' as const, dev: 'a-name-far-too-long' },
      /device name/,
    ],
    [{ family: 4 as const, dst: '10.0.0.0/8', type: 'unicast' as const, dev: 'eth0 down' }, /device name/],
    [
      { family: 4 as const, dst: '10.0.0.0/8', type: 'unicast' as const, nexthops: [{ via: '2001:db8::1' }] },
      /not IPv4/,
    ],
    [{ family: 4 as const, dst: '10.0.0.0/8', type: 'blackhole' as const, table: 0 }, /invalid table/],
  ])('refuses %j', (spec, message) => {
    expect(() => canonicalRoute(spec)).toThrow(RouteSpecError);
    expect(() => canonicalRoute(spec)).toThrow(message);
  });
});

// Captured from `ip -N -4|-6 -json route show table all proto 201` (iproute2 6.1).
const v4: IpJsonRoute[] = [
  { dst: '10.244.4.0/26', gateway: '198.18.0.3', dev: 'v1', table: '100', protocol: '201' },
  { dst: '10.244.1.7', dev: 'v1', protocol: '201', scope: '253' },
  {
    dst: '10.244.2.0/26',
    protocol: '201',
    nexthops: [
      { gateway: '198.18.0.3', dev: 'v1' },
      { gateway: '198.18.0.1', dev: 'v1' },
    ],
  },
  { type: '6', dst: '10.244.1.0/26', protocol: '201' },
  { dst: '10.244.82.0/24', gateway: '198.18.0.1', dev: 'v1', protocol: '201', metric: 50 },
];
const v6: IpJsonRoute[] = [
  { dst: '2001:db8:1::5', dev: 'v3', protocol: '201', metric: 1024 },
  { type: '6', dst: '2001:db8:1::/122', dev: 'lo', protocol: '201', metric: 1024 },
  {
    dst: '2001:db8:2::/122',
    protocol: '201',
    metric: 1024,
    nexthops: [
      { gateway: '2001:db8::2', dev: 'v1' },
      { gateway: '2001:db8::3', dev: 'v1' },
    ],
  },
];

describe('parseJsonRoute', () => {
  it('reads IPv4 routes: host routes as /32, tables, ECMP, blackholes, metrics', () => {
    expect(v4.map((e) => parseJsonRoute(4, e))).toEqual([
      {
        family: 4,
        dst: '10.244.4.0/26',
        type: 'unicast',
        nexthops: [{ via: '198.18.0.3', dev: 'v1' }],
        scope: 'global',
        table: 100,
        protocol: 201,
        metric: 0,
      },
      {
        family: 4,
        dst: '10.244.1.7/32',
        type: 'unicast',
        dev: 'v1',
        scope: 'link',
        table: 254,
        protocol: 201,
        metric: 0,
      },
      {
        family: 4,
        dst: '10.244.2.0/26',
        type: 'unicast',
        nexthops: [
          { via: '198.18.0.1', dev: 'v1' },
          { via: '198.18.0.3', dev: 'v1' },
        ],
        scope: 'global',
        table: 254,
        protocol: 201,
        metric: 0,
      },
      { family: 4, dst: '10.244.1.0/26', type: 'blackhole', table: 254, protocol: 201, metric: 0 },
      {
        family: 4,
        dst: '10.244.82.0/24',
        type: 'unicast',
        nexthops: [{ via: '198.18.0.1', dev: 'v1' }],
        scope: 'global',
        table: 254,
        protocol: 201,
        metric: 50,
      },
    ]);
  });

  it('reads IPv6 routes: no scope, blackholes without their `dev lo`', () => {
    expect(v6.map((e) => parseJsonRoute(6, e))).toEqual([
      {
        family: 6,
        dst: '2001:db8:1::5/128',
        type: 'unicast',
        dev: 'v3',
        table: 254,
        protocol: 201,
        metric: 1024,
      },
      { family: 6, dst: '2001:db8:1::/122', type: 'blackhole', table: 254, protocol: 201, metric: 1024 },
      {
        family: 6,
        dst: '2001:db8:2::/122',
        type: 'unicast',
        nexthops: [
          { via: '2001:db8::2', dev: 'v1' },
          { via: '2001:db8::3', dev: 'v1' },
        ],
        table: 254,
        protocol: 201,
        metric: 1024,
      },
    ]);
  });

  it('takes the protocol from the filter when a `proto N` listing leaves it out', () => {
    // `ip -N -json route show proto 201` prints no protocol field at all.
    expect(parseJsonRoute(4, { type: '6', dst: '10.1.0.0/24' }, 201)).toMatchObject({
      type: 'blackhole',
      protocol: 201,
    });
    expect(parseJsonRoute(4, { type: '6', dst: '10.1.0.0/24', protocol: '4' }, 201)?.protocol).toBe(4);
  });

  it('reads `default`, a missing protocol as boot (3), and skips what it cannot read', () => {
    expect(
      parseJsonRoute(6, { dst: 'default', gateway: 'fe80::1', dev: 'eth0', metric: 1024 }),
    ).toMatchObject({
      dst: '::/0',
      protocol: 3,
    });
    expect(parseJsonRoute(4, { dst: 'nonsense', protocol: '201' })).toBeUndefined();
    expect(parseJsonRoute(4, { dst: '10.0.0.0/8', protocol: 'bird' })).toBeUndefined();
  });

  it('a listed route and its canonical desired form agree', () => {
    const want = canonicalRoute({ family: 4, dst: '10.244.1.7/32', type: 'unicast', dev: 'v1' });
    const { protocol: _p, metric: _m, ...listed } = parseJsonRoute(4, v4[1] as IpJsonRoute) ?? {};
    expect(listed).toEqual(want);
  });
});

const op = (o: RouteOp['op'], route: RouteOp['route']): RouteOp => ({ op: o, route, protocol: 201 });

describe('renderRouteOp', () => {
  it('renders adds and replaces with protocol, table, scope and nexthops last', () => {
    const lines = [
      op('add', canonicalRoute({ family: 4, dst: '10.244.1.7/32', type: 'unicast', dev: 'tbyab12' })),
      op('replace', canonicalRoute({ family: 4, dst: '10.244.1.0/26', type: 'blackhole' })),
      op(
        'add',
        canonicalRoute({
          family: 4,
          dst: '10.244.2.0/26',
          type: 'unicast',
          nexthops: [{ via: '198.18.0.3', dev: 'eth0' }, { via: '198.18.0.1' }],
        }),
      ),
      op(
        'replace',
        canonicalRoute({
          family: 6,
          dst: '2001:db8:2::/122',
          type: 'unicast',
          nexthops: [{ via: '2001:db8::2' }],
        }),
      ),
      op(
        'add',
        canonicalRoute({ family: 6, dst: '2001:db8:1::5/128', type: 'unicast', dev: 'tbyab12', table: 100 }),
      ),
    ].map(renderRouteOp);
    expect(lines).toEqual([
      'route add 10.244.1.7/32 proto 201 table 254 scope link dev tbyab12',
      'route replace blackhole 10.244.1.0/26 proto 201 table 254',
      'route add 10.244.2.0/26 proto 201 table 254 scope global nexthop via 198.18.0.1 nexthop via 198.18.0.3 dev eth0',
      'route replace 2001:db8:2::/122 proto 201 table 254 via 2001:db8::2',
      'route add 2001:db8:1::5/128 proto 201 table 100 dev tbyab12',
    ]);
  });

  it('renders deletes without a device (a vanished device is no error), with a non-zero metric', () => {
    const listed = parseJsonRoute(4, v4[4] as IpJsonRoute);
    const bh6 = parseJsonRoute(6, v6[1] as IpJsonRoute);
    if (!listed || !bh6) throw new Error('fixture');
    expect(renderRouteOp(op('delete', listed))).toBe(
      'route del 10.244.82.0/24 proto 201 table 254 metric 50',
    );
    expect(renderRouteOp(op('delete', bh6))).toBe(
      'route del blackhole 2001:db8:1::/122 proto 201 table 254 metric 1024',
    );
  });

  it('refuses an out-of-range protocol and unsafe tokens', () => {
    const r = canonicalRoute({ family: 4, dst: '10.0.0.0/8', type: 'blackhole' });
    expect(() => renderRouteOp({ op: 'add', route: r, protocol: 0 })).toThrow(/protocol/);
    expect(() => renderRouteOp(op('add', { ...r, type: 'unicast', dev: 'x\nroute flush all' }))).toThrow(
      /unsafe/,
    );
  });
});

describe('ip -batch -force results', () => {
  const ops = [
    op(
      'add',
      canonicalRoute({ family: 4, dst: '10.244.9.0/24', type: 'unicast', nexthops: [{ via: '198.18.0.1' }] }),
    ),
    op('replace', canonicalRoute({ family: 4, dst: '10.244.5.0/24', type: 'blackhole' })),
    op('delete', { family: 4, dst: '10.244.77.0/24', type: 'unicast', table: 254, protocol: 201, metric: 0 }),
    op('add', canonicalRoute({ family: 4, dst: '10.244.6.0/32', type: 'unicast', dev: 'nosuch' })),
    op('add', canonicalRoute({ family: 4, dst: '10.244.70.0/24', type: 'unicast', dev: 'down0' })),
    op(
      'add',
      canonicalRoute({
        family: 4,
        dst: '10.244.7.0/24',
        type: 'unicast',
        nexthops: [{ via: '10.99.99.99' }],
      }),
    ),
  ];
  const lines = ops.map(renderRouteOp);
  // Captured from iproute2 6.1.
  const stderr = [
    'RTNETLINK answers: File exists',
    'Command failed -:1',
    'RTNETLINK answers: No such process',
    'Command failed -:3',
    'Cannot find device "nosuch"',
    'Command failed -:4',
    'Error: Device for nexthop is not up.',
    'Command failed -:5',
    'Error: Nexthop has invalid gateway.',
    'Command failed -:6',
    '',
  ].join('\n');

  it('splits stderr by failing line', () => {
    const { byLine, trailing } = parseBatchStderr(stderr);
    expect([...byLine.keys()]).toEqual([1, 3, 4, 5, 6]);
    expect(byLine.get(4)).toBe('Cannot find device "nosuch"');
    expect(trailing).toBe('');
  });

  it('maps failures back to ops with an errno; a delete of a missing route is done', () => {
    const results = batchResults(ops, lines, 1, stderr, (l) => `ip ${l}`);
    expect(
      results.map((r) => (r.ok ? (r.alreadyGone ? 'gone' : 'ok') : `${r.failure}:${r.error.errno}`)),
    ).toEqual([
      'exists:EEXIST',
      'ok',
      'gone',
      'device-unavailable:ENOENT',
      'device-unavailable:EUNKNOWN',
      'error:ENETUNREACH',
    ]);
    const first = results[0];
    expect(first?.ok === false && first.error.op).toBe(`ip ${lines[0]}`);
  });

  it('a batch that died mid-way leaves every line after the last report unknown', () => {
    const died =
      'RTNETLINK answers: File exists\nCommand failed -:1\nCannot find device "x"\nError: cannot parse nexthop\n';
    const results = batchResults(ops, lines, 255, died, (l) => l);
    expect(results.map((r) => (r.ok ? 'ok' : r.failure))).toEqual([
      'exists',
      'batch-aborted',
      'batch-aborted',
      'batch-aborted',
      'batch-aborted',
      'batch-aborted',
    ]);
    const last = results[5];
    expect(last?.ok === false && last.error.detail).toMatch(/cannot parse nexthop/);
  });

  it('a clean batch is all ok', () => {
    expect(batchResults(ops, lines, 0, '', (l) => l).every((r) => r.ok)).toBe(true);
  });
});
