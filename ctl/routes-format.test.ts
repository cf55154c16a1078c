import { describe, expect, it } from 'vitest';
import type { KernelRoute } from '../kernel/route-spec.js';
import { formatRoutes, routeRole } from './routes-format.js';

const base = { family: 4 as const, table: 254, protocol: 201, metric: 0 };
const routes: KernelRoute[] = [
  { ...base, dst: '10.244.1.0/26', type: 'blackhole' },
  { ...base, dst: '10.244.1.7/32', type: 'unicast', dev: 'tbyab12', scope: 'link' },
  { ...base, dst: '10.244.2.0/26', type: 'unicast', nexthops: [{ via: '198.18.1.0' }] },
  {
    ...base,
    dst: '10.244.3.0/26',
    type: 'unicast',
    nexthops: [{ via: '198.18.3.12' }, { via: '198.18.3.13' }],
  },
];

describe('tabby routes', () => {
  it('tells pods, blocks and learned routes apart', () => {
    expect(routes.map(routeRole)).toEqual(['block', 'pod', 'bgp', 'bgp']);
  });

  it('groups them', () => {
    const out = formatRoutes(routes, 201);
    expect(out).toMatch(/pods on this node \(1\)\n\s+10\.244\.1\.7\/32\s+dev tbyab12/);
    expect(out).toMatch(/blocks.*\(1\)\n\s+10\.244\.1\.0\/26\s+blackhole/);
    expect(out).toMatch(
      /learned over BGP \(2\)\n\s+10\.244\.2\.0\/26\s+via 198\.18\.1\.0\n\s+10\.244\.3\.0\/26\s+via 198\.18\.3\.12, via 198\.18\.3\.13/,
    );
  });

  it('says when there is nothing', () => {
    expect(formatRoutes([], 201)).toMatch(/no routes with protocol 201/);
  });
});
