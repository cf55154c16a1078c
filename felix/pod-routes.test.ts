import { describe, expect, it } from 'vitest';
import { blackholeRoutes, localRoutes } from './pod-routes.js';
import type { Workload } from './workloads.js';

const workload = (containerId: string, hostVeth: string, addresses: Workload['addresses']): Workload => ({
  network: 'k8s-pod-network',
  containerId,
  ifname: 'eth0',
  hostVeth,
  handle: `k8s-pod-network.${containerId}.eth0`,
  addresses,
});

describe('localRoutes', () => {
  it('gives every address of every pod a scope-link host route on its host veth', () => {
    const routes = localRoutes([
      workload('c1', 'tby1', [
        { family: 4, address: '10.244.1.7' },
        { family: 6, address: 'fd00:10:244::7' },
      ]),
      workload('c2', 'tby2', [{ family: 4, address: '10.244.1.8' }]),
    ]);
    expect(routes).toEqual([
      { family: 4, dst: '10.244.1.7/32', type: 'unicast', dev: 'tby1', scope: 'link' },
      { family: 6, dst: 'fd00:10:244::7/128', type: 'unicast', dev: 'tby1', scope: 'link' },
      { family: 4, dst: '10.244.1.8/32', type: 'unicast', dev: 'tby2', scope: 'link' },
    ]);
  });

  it('is empty without pods or without addresses', () => {
    expect(localRoutes([])).toEqual([]);
    expect(localRoutes([workload('c1', 'tby1', [])])).toEqual([]);
  });

  it('takes any iterable (the workload table’s values)', () => {
    const m = new Map([['c1', workload('c1', 'tby1', [{ family: 4, address: '10.244.1.7' }])]]);
    expect(localRoutes(m.values()).map((r) => r.dst)).toEqual(['10.244.1.7/32']);
  });
});

describe('blackholeRoutes', () => {
  it('blackholes every IPv4 and IPv6 block', () => {
    expect(blackholeRoutes(['10.244.1.0/26', 'fd00:10:244::/122'])).toEqual([
      { family: 4, dst: '10.244.1.0/26', type: 'blackhole' },
      { family: 6, dst: 'fd00:10:244::/122', type: 'blackhole' },
    ]);
  });

  it('writes the block in canonical form', () => {
    expect(blackholeRoutes(['fd00:0010:0244:0000::/122'])).toEqual([
      { family: 6, dst: 'fd00:10:244::/122', type: 'blackhole' },
    ]);
  });

  it('gives no blackhole for /32 or /128 blocks (the pod route is the whole block)', () => {
    expect(blackholeRoutes(['10.244.1.7/32', 'fd00:10:244::7/128'])).toEqual([]);
    expect(blackholeRoutes(['10.244.1.6/31', '10.244.1.7/32', 'fd00::/127']).map((r) => r.dst)).toEqual([
      '10.244.1.6/31',
      'fd00::/127',
    ]);
  });

  it('is empty without blocks', () => {
    expect(blackholeRoutes([])).toEqual([]);
  });
});
