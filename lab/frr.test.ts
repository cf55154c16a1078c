import { describe, expect, it } from 'vitest';
import { parseBgpSummary } from './frr.js';

describe('parseBgpSummary (FRR `show bgp summary json`)', () => {
  it('flattens peers of every address family', () => {
    const sessions = parseBgpSummary({
      ipv4Unicast: {
        peers: {
          '198.18.0.1': {
            remoteAs: 65001,
            state: 'Established',
            peerUptimeMsec: 4200,
            pfxRcd: 4,
            pfxSnt: 9,
            desc: 'tor1',
          },
          '198.18.0.3': { remoteAs: 65002, state: 'Active', peerUptimeMsec: 0 },
        },
      },
      ipv6Unicast: {
        peers: { '2001:2::1': { remoteAs: 65001, state: 'Established', pfxRcd: 1, pfxSnt: 2 } },
      },
    });
    expect(sessions).toEqual([
      {
        family: 4,
        peer: '198.18.0.1',
        description: 'tor1',
        remoteAs: 65001,
        state: 'Established',
        uptimeMs: 4200,
        prefixesReceived: 4,
        prefixesSent: 9,
      },
      {
        family: 4,
        peer: '198.18.0.3',
        description: undefined,
        remoteAs: 65002,
        state: 'Active',
        uptimeMs: 0,
        prefixesReceived: 0,
        prefixesSent: 0,
      },
      {
        family: 6,
        peer: '2001:2::1',
        description: undefined,
        remoteAs: 65001,
        state: 'Established',
        uptimeMs: 0,
        prefixesReceived: 1,
        prefixesSent: 2,
      },
    ]);
  });

  it('handles a router with no sessions', () => {
    expect(parseBgpSummary({})).toEqual([]);
  });
});
