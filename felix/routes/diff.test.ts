import { describe, expect, it } from 'vitest';
import { canonicalRoute, type KernelRoute } from '../../kernel/route-spec.js';
import { DesiredRoutes } from './desired.js';
import { planRouteOps } from './diff.js';
import { keyOf, routeKey } from './route-key.js';
import type { Route, RouteKey } from './types.js';

const pod = (ip: string, dev: string): Route =>
  canonicalRoute({ family: 4, dst: `${ip}/32`, type: 'unicast', dev });
const blackhole = (dst: string): Route => canonicalRoute({ family: 4, dst, type: 'blackhole' });
const learned = (dst: string, ...via: string[]): Route =>
  canonicalRoute({ family: 4, dst, type: 'unicast', nexthops: via.map((v) => ({ via: v })) });
const inKernel = (r: Route, metric = 0, protocol = 201): KernelRoute => ({
  ...r,
  table: r.table ?? 254,
  protocol,
  metric,
});

function plan(want: Route[], have: KernelRoute[], keys?: RouteKey[]) {
  const wanted = new Map(want.map((r) => [keyOf(r), r]));
  const present = new Map<RouteKey, KernelRoute[]>();
  for (const r of have) present.set(keyOf(r), [...(present.get(keyOf(r)) ?? []), r]);
  const all = keys ?? [...new Set([...wanted.keys(), ...present.keys()])];
  const p = planRouteOps(
    all,
    (k) => wanted.get(k),
    (k) => present.get(k) ?? [],
    201,
  );
  return { ops: p.ops.map((o) => `${o.op.op} ${o.op.route.dst}`), converged: p.converged };
}

describe('planRouteOps', () => {
  it('adds what is missing, replaces what differs, deletes what is no longer wanted', () => {
    const p = plan(
      [pod('10.244.1.7', 'tbya'), pod('10.244.1.8', 'tbyb'), blackhole('10.244.1.0/26')],
      [
        inKernel(pod('10.244.1.8', 'tbyold')),
        inKernel(blackhole('10.244.1.0/26')),
        inKernel(pod('10.244.1.9', 'tbyc')),
      ],
    );
    expect(p.ops).toEqual(['add 10.244.1.7/32', 'replace 10.244.1.8/32', 'delete 10.244.1.9/32']);
    expect(p.converged).toEqual([routeKey(254, '10.244.1.0/26')]);
  });

  it('uses add, never replace, when no tabby route holds the slot (a foreign one may)', () => {
    expect(plan([blackhole('10.244.5.0/26')], []).ops).toEqual(['add 10.244.5.0/26']);
  });

  it('replaces across types (a blackhole becoming a device route)', () => {
    const p = plan(
      [canonicalRoute({ family: 4, dst: '10.244.1.0/26', type: 'unicast', dev: 'x' })],
      [inKernel(blackhole('10.244.1.0/26'))],
    );
    expect(p.ops).toEqual(['replace 10.244.1.0/26']);
  });

  it('a wanted gateway without a device matches the device the kernel resolved', () => {
    const want = learned('10.244.2.0/26', '198.18.0.3', '198.18.0.1');
    const have = inKernel({
      ...want,
      nexthops: [
        { via: '198.18.0.1', dev: 'eth0' },
        { via: '198.18.0.3', dev: 'eth0' },
      ],
    });
    expect(plan([want], [have]).ops).toEqual([]);
    expect(plan([learned('10.244.2.0/26', '198.18.0.1')], [have]).ops).toEqual(['replace 10.244.2.0/26']);
  });

  it('deletes tabby routes at a metric tabby never writes, keeping the default slot', () => {
    const r = pod('10.244.1.7', 'tbya');
    const p = plan([r], [inKernel(r, 50), inKernel(r)]);
    expect(p.ops).toEqual(['delete 10.244.1.7/32']);
    expect(plan([], [inKernel(r, 50)]).ops).toEqual(['delete 10.244.1.7/32']);
  });

  it('keys are table + destination: the same prefix in two tables is two routes', () => {
    const main = blackhole('10.244.1.0/26');
    const other = canonicalRoute({ family: 4, dst: '10.244.1.0/26', type: 'blackhole', table: 100 });
    expect(plan([main, other], [inKernel(main)]).ops).toEqual(['add 10.244.1.0/26']);
  });

  it('only looks at the keys it is given', () => {
    const p = plan([pod('10.244.1.7', 'a'), pod('10.244.1.8', 'b')], [], [routeKey(254, '10.244.1.8/32')]);
    expect(p.ops).toEqual(['add 10.244.1.8/32']);
  });

  it('IPv6 routes sit at metric 1024', () => {
    const r = canonicalRoute({ family: 6, dst: '2001:db8::5/128', type: 'unicast', dev: 'tbya' });
    expect(plan([r], [inKernel(r, 1024)]).ops).toEqual([]);
    expect(plan([r], [inKernel(r, 0)]).ops).toEqual(['delete 2001:db8::5/128', 'add 2001:db8::5/128']);
  });
});

describe('DesiredRoutes precedence', () => {
  const dst = '10.244.1.0/26';
  const key = routeKey(254, dst);

  it('local beats blocks beats bgp; a lower source reappears when the higher withdraws', () => {
    const d = new DesiredRoutes();
    d.set('bgp', [learned(dst, '198.18.0.1')]);
    expect(d.winner(key)?.source).toBe('bgp');
    d.set('blocks', [blackhole(dst)]);
    expect(d.winner(key)?.source).toBe('blocks');
    d.upsert('local', canonicalRoute({ family: 4, dst, type: 'unicast', dev: 'tbya' }));
    expect(d.winner(key)?.route.dev).toBe('tbya');
    d.remove('local', key);
    expect(d.winner(key)?.route.type).toBe('blackhole');
    d.set('blocks', []);
    expect(d.winner(key)?.route.nexthops).toEqual([{ via: '198.18.0.1' }]);
    d.set('bgp', []);
    expect(d.winner(key)).toBeUndefined();
  });

  it('reports only the keys whose route changed', () => {
    const d = new DesiredRoutes();
    const a = pod('10.244.1.7', 'tbya');
    const b = pod('10.244.1.8', 'tbyb');
    expect(d.set('local', [a, b])).toHaveLength(2);
    expect(d.set('local', [a, b])).toEqual([]);
    expect(d.set('local', [a, pod('10.244.1.8', 'tbyc')])).toEqual([keyOf(b)]);
    expect(d.set('local', [a])).toEqual([keyOf(b)]);
    expect(d.upsert('local', a)).toBeUndefined();
    expect(d.upsert('local', b)).toBe(keyOf(b));
    expect(d.winners()).toHaveLength(2);
  });
});
