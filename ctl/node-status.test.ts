import { describe, expect, it } from 'vitest';
import type { PeerStatus } from '../bgp/gobgp-api.js';
import { formatPeerDescription } from '../bgp/peer-description.js';
import { formatNodeStatus, formatSince, redactNodeStatus } from './node-status.js';

const peer = (address: string, description: string, more: Partial<PeerStatus> = {}): PeerStatus => ({
  config: {
    address,
    asn: 65001,
    description,
    holdTime: 9,
    keepaliveInterval: 3,
    connectRetry: 5,
    families: [address.includes(':') ? 6 : 4],
  },
  state: 'established',
  adminState: 'up',
  establishedSince: new Date('2026-11-21T10:00:00Z'),
  received: 3,
  accepted: 2,
  advertised: 1,
  ...more,
});

describe('tabby node status', () => {
  const now = new Date('2026-11-21T10:04:05Z');

  it('prints the speaker and one line per peer with its type', () => {
    const out = formatNodeStatus(
      {
        global: { asn: 64601, routerId: '198.18.1.1', listenPort: 179, listenAddresses: [] },
        peers: [
          peer('198.18.1.0', formatPeerDescription('node', 'node1-tor1')),
          peer('198.18.3.12', formatPeerDescription('mesh', 'node2'), {
            state: 'active',
            establishedSince: undefined,
          }),
          peer('198.18.9.9', 'hand-made', { adminState: 'pfx_ct', state: 'idle' }),
        ],
      },
      now,
    );
    expect(out).toContain('BGP: AS 64601, router id 198.18.1.1, port 179');
    expect(out).toMatch(
      /198\.18\.1\.0\s+node specific\s+node1-tor1\s+65001\s+established\s+4m05s\s+3\s+2\s+1/,
    );
    expect(out).toMatch(/198\.18\.3\.12\s+node-to-node mesh\s+node2\s+65001\s+active\s+-/);
    expect(out).toMatch(/198\.18\.9\.9\s+unmanaged\s+hand-made\s+65001\s+down \(max prefixes\)/);
    expect(out).toContain('no IPv6 peers');
  });

  it('never shows MD5 passwords: "(set)" instead, in JSON and in the table', () => {
    const status = {
      global: { asn: 64601, routerId: '198.18.1.1', listenPort: 179, listenAddresses: ['0.0.0.0'] },
      peers: [
        peer('198.18.1.0', formatPeerDescription('node', 'tor'), {
          config: { ...peer('198.18.1.0', '').config, password: 's3cret-tor' },
        }),
        peer('198.18.3.12', formatPeerDescription('mesh', 'node2')),
      ],
    };
    const redacted = redactNodeStatus(status);
    expect(redacted.peers.map((p) => p.config.password)).toEqual(['(set)', undefined]);
    expect(redacted.peers[1]).toBe(status.peers[1]);
    expect(redacted.global).toEqual(status.global);
    const json = JSON.stringify(redacted, null, 2);
    expect(json).not.toContain('s3cret-tor');
    expect(json).toContain('"password": "(set)"');
    expect(formatNodeStatus(redacted, now)).not.toContain('s3cret-tor');
    // The input is left as it was.
    expect(status.peers[0]?.config.password).toBe('s3cret-tor');
  });

  it('says when BGP is not started', () => {
    expect(formatNodeStatus({ global: undefined, peers: [] })).toMatch(/not started/);
  });

  it('formats durations', () => {
    const at = (s: number) => formatSince(new Date(now.getTime() - s * 1000), now);
    expect([at(12), at(65), at(3 * 3600 + 12 * 60), at(2 * 86400 + 3600)]).toEqual([
      '12s',
      '1m05s',
      '3h12m',
      '2d1h',
    ]);
    expect(formatSince(undefined, now)).toBe('-');
  });
});
