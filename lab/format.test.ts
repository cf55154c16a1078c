import { describe, expect, it } from 'vitest';
import { formatStatus } from './format.js';
import type { LabStatus } from './status.js';
import { notEstablished } from './status.js';

const status: LabStatus = {
  name: 'demo',
  phase: 'up',
  createdAt: '2026-11-21T00:00:00.000Z',
  nodes: [
    {
      node: 'node1',
      netns: 'demo-node1',
      role: 'node',
      present: true,
      interfaces: [
        { name: 'lo', state: 'UNKNOWN', addresses: [] },
        { name: 'eth1', state: 'UP', addresses: ['198.18.1.1/31'] },
      ],
    },
    { node: 'node2', netns: 'demo-node2', role: 'node', present: false, interfaces: [] },
    {
      node: 'tor1',
      netns: 'demo-tor1',
      role: 'router',
      daemon: 'frr',
      present: true,
      interfaces: [],
      bgp: [
        {
          family: 4,
          peer: '198.18.0.0',
          description: 'spine',
          peerNode: 'spine',
          peerRole: 'router',
          remoteAs: 65000,
          state: 'Established',
          uptimeMs: 125_000,
          prefixesReceived: 6,
          prefixesSent: 3,
        },
        {
          family: 4,
          peer: '198.18.0.9',
          remoteAs: 65009,
          state: 'Active',
          uptimeMs: 0,
          prefixesReceived: 0,
          prefixesSent: 0,
        },
        {
          family: 4,
          peer: '198.18.1.1',
          description: 'node1',
          peerNode: 'node1',
          peerRole: 'node',
          remoteAs: 64601,
          state: 'Active',
          uptimeMs: 0,
          prefixesReceived: 0,
          prefixesSent: 0,
        },
      ],
    },
    {
      node: 'tor2',
      netns: 'demo-tor2',
      role: 'router',
      present: true,
      interfaces: [],
      error: 'vtysh: no answer',
    },
  ],
  links: [{ a: 'tor1:eth2', b: 'node1:eth1', stateA: 'UP', stateB: 'LOWERLAYERDOWN' }],
  processes: [
    { name: 'zebra@demo-tor1', pid: 1, running: true },
    { name: 'bgpd@demo-tor1', pid: 2, running: false },
  ],
};

describe('lab status output', () => {
  const text = formatStatus(status);
  it('lists nodes with their interfaces and marks missing namespaces', () => {
    expect(text).toMatch(/node1 +node +demo-node1 +eth1\(up 198\.18\.1\.1\/31\)/);
    expect(text).toMatch(/node2 +node +demo-node2 +MISSING/);
  });
  it('lists links with the state of both ends', () => {
    expect(text).toMatch(/tor1:eth2 +<-> +node1:eth1 +up\/lowerlayerdown/);
  });
  it('lists BGP sessions with what the peer is, state, uptime and prefix counts', () => {
    expect(text).toMatch(/tor1 +198\.18\.0\.0 +spine +router +65000 +Established +2m5s +6 +3/);
    expect(text).toMatch(/tor1 +198\.18\.0\.9 +\? +65009 +Active +- +0 +0/);
    expect(text).toMatch(/tor1 +198\.18\.1\.1 +node1 +server +64601 +Active +- +0 +0/);
    expect(text).toContain('1 router↔server session(s) not Established: they come up once tabby runs');
    expect(text).toMatch(/tor1 +router\/frr +demo-tor1/);
    expect(text).toMatch(/tor2 .*ERROR vtysh: no answer/);
    expect(text).toContain('daemons: 1/2 running; stopped: bgpd@demo-tor1');
  });
  it('names what is not Established yet: router↔router sessions, and with `servers` all of them', () => {
    expect(notEstablished(status)).toEqual(['tor1→198.18.0.9 Active', 'tor2 (vtysh: no answer)']);
    expect(notEstablished(status, { servers: true })).toEqual([
      'tor1→198.18.0.9 Active',
      'tor1→198.18.1.1 Active',
      'tor2 (vtysh: no answer)',
    ]);
  });
});
