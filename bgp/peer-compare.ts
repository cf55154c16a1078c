// Whether a neighbor needs an UpdatePeer: its settings compared field by field, with gobgpd's
// defaults made explicit (port 0 = 179, no multihop = TTL 0, ...) and without
// gracefulRestart.localRestarting, which only matters when a session opens. Pure.
import { parseIp } from '../common/addr.js';
import type { DesiredPeer } from './desired-types.js';
import type { PeerConfig } from './gobgp-api.js';

/** The settings of a DesiredPeer that go to gobgpd (kind and source are tabby's bookkeeping). */
export function toPeerConfig(p: DesiredPeer | PeerConfig): PeerConfig {
  const { kind: _kind, source: _source, ...config } = p as DesiredPeer;
  return config;
}

/** A neighbor address in canonical form (as given when it does not parse: gobgpd will say why). */
export const peerAddress = (a: string | undefined): string => {
  if (!a) return '';
  try {
    return parseIp(a).address;
  } catch {
    return a;
  }
};

/** Every compared field in one comparable form. */
function normalized(p: PeerConfig): Record<string, string | number | boolean> {
  return {
    address: peerAddress(p.address),
    asn: p.asn,
    description: p.description ?? '',
    password: p.password ?? '',
    localAddress: peerAddress(p.localAddress),
    port: p.port || 179,
    holdTime: p.holdTime,
    keepaliveInterval: p.keepaliveInterval,
    connectRetry: p.connectRetry,
    multihopTtl: p.multihopTtl ?? 0,
    gracefulRestart: p.gracefulRestart ? p.gracefulRestart.restartTime : -1,
    routeReflectorClient: p.routeReflectorClient?.clusterId ?? '',
    families: [...new Set(p.families)].sort().join(','),
    maxPrefixes: p.maxPrefixes ?? 0,
    passive: p.passive ?? false,
  };
}

/** The fields in which `want` differs from `have` (empty: no update needed). */
export function peerDifferences(want: PeerConfig, have: PeerConfig): string[] {
  const a = normalized(want);
  const b = normalized(have);
  return Object.keys(a).filter((key) => a[key] !== b[key]);
}

/**
 * What to send in an UpdatePeer: `want`, but keeping the localRestarting flag gobgpd has (an
 * update must not change it: it only matters when a session opens).
 */
export function updateFor(want: PeerConfig, have: PeerConfig | undefined): PeerConfig {
  const gr = want.gracefulRestart;
  const current = have?.gracefulRestart;
  if (!gr || !current || gr.localRestarting === current.localRestarting) return want;
  return { ...want, gracefulRestart: { ...gr, localRestarting: current.localRestarting } };
}

/**
 * What gobgpd reports for a neighbor, without what it fills in by itself: while a session is up
 * it reports the session's source address even when none was configured (gobgp-convert fromPeer).
 */
export function asConfigured(reported: PeerConfig, want: PeerConfig): PeerConfig {
  if (want.localAddress || !reported.localAddress) return reported;
  const { localAddress: _filledIn, ...rest } = reported;
  return rest;
}
