// gobgp-convert: tabby's shapes ↔ gobgpd 3.10's decoded protobuf, on fixtures shaped like what
// gobgpd really answered (ListPeer, ListPath, WatchEvent), with the defaults proto-loader fills in.
import { describe, expect, it } from 'vitest';
import type { Destination__Output } from '../proto/generated/apipb/Destination.js';
import type { Path__Output } from '../proto/generated/apipb/Path.js';
import type { Peer__Output } from '../proto/generated/apipb/Peer.js';
import type { WatchEventResponse__Output } from '../proto/generated/apipb/WatchEventResponse.js';
import type { PeerConfig } from './gobgp-api.js';
import {
  bestPathsOfDestination,
  bestPathsOfEvent,
  chunks,
  DEFAULT_GR_DEFERRAL_TIME,
  formatCommunity,
  fromAssignment,
  fromDefinedSet,
  fromGlobal,
  fromLocalPath,
  fromPeer,
  fromPolicy,
  parseCommunity,
  sortByPrefix,
  toAssignment,
  toDefinedSet,
  toGlobal,
  toLocalPath,
  toPeer,
  toPolicy,
  toWithdrawPath,
  watchMessagesOf,
} from './gobgp-convert.js';

const T = (n: string) => `type.googleapis.com/apipb.${n}`;
const fam4 = { afi: 'AFI_IP', safi: 'SAFI_UNICAST' } as const;
const fam6 = { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' } as const;

interface PathSpec {
  prefix: string;
  nextHop?: string;
  nextHops?: string[];
  neighbor?: string;
  sourceAsn?: number;
  best?: boolean;
  withdraw?: boolean;
  localPref?: number;
  asPath?: number[];
  med?: number;
  origin?: number;
  communities?: number[];
  nexthopInvalid?: boolean;
}

/** A Path as proto-loader decodes gobgpd's answer (defaults filled in). */
function path(s: PathSpec): Path__Output {
  const [prefix = '', len = '0'] = s.prefix.split('/');
  const v6 = prefix.includes(':');
  const pattrs: Record<string, unknown>[] = [{ '@type': T('OriginAttribute'), origin: s.origin ?? 0 }];
  if (s.asPath)
    pattrs.push({ '@type': T('AsPathAttribute'), segments: [{ type: 'AS_SEQUENCE', numbers: s.asPath }] });
  if (s.nextHops) {
    pattrs.push({
      '@type': T('MpReachNLRIAttribute'),
      family: v6 ? fam6 : fam4,
      nextHops: s.nextHops,
      nlris: [],
    });
  } else {
    pattrs.push({ '@type': T('NextHopAttribute'), nextHop: s.nextHop ?? '0.0.0.0' });
  }
  if (s.med !== undefined) pattrs.push({ '@type': T('MultiExitDiscAttribute'), med: s.med });
  if (s.localPref !== undefined) pattrs.push({ '@type': T('LocalPrefAttribute'), localPref: s.localPref });
  if (s.communities) pattrs.push({ '@type': T('CommunitiesAttribute'), communities: s.communities });
  return {
    nlri: { '@type': T('IPAddressPrefix'), prefix, prefixLen: Number(len) } as Path__Output['nlri'],
    pattrs: pattrs as unknown as Path__Output['pattrs'],
    age: { seconds: '1795275540', nanos: 0 },
    best: s.best ?? false,
    isWithdraw: s.withdraw ?? false,
    validation: null,
    noImplicitWithdraw: false,
    family: v6 ? fam6 : fam4,
    sourceAsn: s.sourceAsn ?? 0,
    sourceId: s.neighbor ?? '<nil>',
    filtered: false,
    stale: false,
    isFromExternal: false,
    neighborIp: s.neighbor ?? '<nil>',
    uuid: Buffer.alloc(0),
    isNexthopInvalid: s.nexthopInvalid ?? false,
    identifier: 0,
    localIdentifier: 1,
    nlriBinary: Buffer.alloc(0),
    pattrsBinary: [],
  };
}

const dest = (prefix: string, paths: Path__Output[]): Destination__Output => ({ prefix, paths });

describe('global', () => {
  it('always turns ECMP on and reads asn 0 as not started', () => {
    expect(
      toGlobal({ asn: 64512, routerId: '10.0.0.1', listenPort: 179, listenAddresses: ['0.0.0.0'] }),
    ).toEqual({
      asn: 64512,
      routerId: '10.0.0.1',
      listenPort: 179,
      listenAddresses: ['0.0.0.0'],
      useMultiplePaths: true,
    });
    const fresh = {
      asn: 0,
      routerId: '',
      listenPort: 0,
      listenAddresses: [],
      families: [],
      useMultiplePaths: false,
    } as unknown as Parameters<typeof fromGlobal>[0];
    expect(fromGlobal(fresh)).toBeUndefined();
    expect(fromGlobal(null)).toBeUndefined();
    expect(
      fromGlobal({ ...fresh, asn: 64512, routerId: '10.0.0.1', listenPort: 179 } as typeof fresh),
    ).toEqual({
      asn: 64512,
      routerId: '10.0.0.1',
      listenPort: 179,
      listenAddresses: [],
    });
  });
});

describe('peers', () => {
  const full: PeerConfig = {
    address: '10.10.0.2',
    asn: 65000,
    description: 'tabby node b',
    password: 's3cret',
    localAddress: '10.10.0.1',
    port: 1179,
    holdTime: 9,
    keepaliveInterval: 3,
    connectRetry: 5,
    multihopTtl: 2,
    gracefulRestart: { restartTime: 120, localRestarting: true },
    routeReflectorClient: { clusterId: '10.10.0.3' },
    families: [4, 6],
    maxPrefixes: 500,
    passive: true,
  };

  it('writes every field where gobgpd reads it', () => {
    expect(toPeer(full)).toEqual({
      conf: {
        neighborAddress: '10.10.0.2',
        peerAsn: 65000,
        description: 'tabby node b',
        authPassword: 's3cret',
      },
      timers: { config: { connectRetry: 5, holdTime: 9, keepaliveInterval: 3 } },
      transport: { localAddress: '10.10.0.1', remotePort: 1179, passiveMode: true },
      ebgpMultihop: { enabled: true, multihopTtl: 2 },
      gracefulRestart: {
        enabled: true,
        restartTime: 120,
        notificationEnabled: true,
        localRestarting: true,
        deferralTime: 30,
      },
      routeReflector: { routeReflectorClient: true, routeReflectorClusterId: '10.10.0.3' },
      afiSafis: [
        {
          config: { family: fam4, enabled: true },
          mpGracefulRestart: { config: { enabled: true } },
          prefixLimits: { family: fam4, maxPrefixes: 500, shutdownThresholdPct: 80 },
        },
        {
          config: { family: fam6, enabled: true },
          mpGracefulRestart: { config: { enabled: true } },
          prefixLimits: { family: fam6, maxPrefixes: 500, shutdownThresholdPct: 80 },
        },
      ],
    });
  });

  it('sets the GR deferral time: 30 s unless given (gobgpd would wait 360 s)', () => {
    expect(toPeer(full).gracefulRestart?.deferralTime).toBe(DEFAULT_GR_DEFERRAL_TIME);
    expect(DEFAULT_GR_DEFERRAL_TIME).toBe(30);
    const given = toPeer({
      ...full,
      gracefulRestart: { restartTime: 120, localRestarting: true, deferralTime: 90 },
    });
    expect(given.gracefulRestart).toMatchObject({ localRestarting: true, deferralTime: 90 });
  });

  it('leaves optional features off', () => {
    const p = toPeer({
      address: '10.10.0.2',
      asn: 64512,
      description: '',
      holdTime: 90,
      keepaliveInterval: 30,
      connectRetry: 5,
      families: [4],
    });
    expect(p.conf?.authPassword).toBe('');
    expect(p.transport).toEqual({ localAddress: '', remotePort: 0, passiveMode: false });
    expect(p.ebgpMultihop).toEqual({ enabled: false, multihopTtl: 0 });
    expect(p.gracefulRestart).toEqual({ enabled: false });
    expect(p.routeReflector).toEqual({ routeReflectorClient: false });
    expect(p.afiSafis).toEqual([
      { config: { family: fam4, enabled: true }, mpGracefulRestart: { config: { enabled: false } } },
    ]);
  });

  /** What ListPeer returns for `full` (abridged to the fields read; uint64 as strings). */
  function listed(state: string, admin = 'UP'): Peer__Output {
    const af = (family: typeof fam4 | typeof fam6, received: string) => ({
      config: { family, enabled: true },
      state: { family, enabled: true, received, accepted: received, advertised: '2' },
      mpGracefulRestart: { config: { enabled: true }, state: null },
      prefixLimits: { family, maxPrefixes: 500, shutdownThresholdPct: 80 },
    });
    return {
      conf: {
        authPassword: 's3cret',
        description: 'tabby node b',
        localAsn: 64512,
        neighborAddress: '10.10.0.2',
        peerAsn: 65000,
      },
      state: { neighborAddress: '10.10.0.2', sessionState: state, adminState: admin },
      timers: {
        config: { connectRetry: '5', holdTime: '9', keepaliveInterval: '3', idleHoldTimeAfterReset: '30' },
        state: { uptime: { seconds: '1700000000', nanos: 500_000_000 } },
      },
      transport: { localAddress: '10.10.0.1', remotePort: 1179, passiveMode: true },
      ebgpMultihop: { enabled: true, multihopTtl: 2 },
      gracefulRestart: { enabled: true, restartTime: 120, notificationEnabled: true, localRestarting: true },
      routeReflector: { routeReflectorClient: true, routeReflectorClusterId: '10.10.0.3' },
      afiSafis: [af(fam4, '3'), af(fam6, '4')],
    } as unknown as Peer__Output;
  }

  it('reads the same config back, with state and counters summed over families', () => {
    expect(fromPeer(listed('ESTABLISHED'))).toEqual({
      config: full,
      state: 'established',
      adminState: 'up',
      establishedSince: new Date(1_700_000_000_500),
      received: 7,
      accepted: 7,
      advertised: 4,
    });
  });

  it('has no establishedSince unless established; max-prefix shutdown is pfx_ct', () => {
    const s = fromPeer(listed('IDLE', 'PFX_CT'));
    expect(s.state).toBe('idle');
    expect(s.adminState).toBe('pfx_ct');
    expect(s.establishedSince).toBeUndefined();
    expect(fromPeer(listed('OPENCONFIRM', 'DOWN'))).toMatchObject({
      state: 'openconfirm',
      adminState: 'down',
    });
  });

  it('takes a dynamic peer address from its state', () => {
    const p = listed('ACTIVE');
    (p.conf as { neighborAddress: string }).neighborAddress = '';
    expect(fromPeer(p).config.address).toBe('10.10.0.2');
  });
});

describe('defined sets', () => {
  it('round-trips prefix sets', () => {
    const set = {
      type: 'prefix' as const,
      name: 'own4',
      prefixes: [{ prefix: '10.244.1.0/26', minLength: 26, maxLength: 32 }],
    };
    const pb = toDefinedSet(set);
    expect(pb).toEqual({
      definedType: 'PREFIX',
      name: 'own4',
      prefixes: [{ ipPrefix: '10.244.1.0/26', maskLengthMin: 26, maskLengthMax: 32 }],
    });
    expect(fromDefinedSet({ ...pb, list: [] } as unknown as Parameters<typeof fromDefinedSet>[0])).toEqual(
      set,
    );
  });

  it('sends neighbor addresses as host prefixes (gobgpd wants prefixes) and reads them back bare', () => {
    const set = {
      type: 'neighbor' as const,
      name: 'tors',
      addresses: ['10.10.0.254', 'fd00::1', '10.11.0.0/24'],
    };
    const pb = toDefinedSet(set);
    expect(pb.list).toEqual(['10.10.0.254/32', 'fd00::1/128', '10.11.0.0/24']);
    expect(
      fromDefinedSet({ ...pb, prefixes: [] } as unknown as Parameters<typeof fromDefinedSet>[0]),
    ).toEqual(set);
  });

  it('ignores other set types', () => {
    const s = { definedType: 'COMMUNITY', name: 'c', list: [], prefixes: [] };
    expect(fromDefinedSet(s as unknown as Parameters<typeof fromDefinedSet>[0])).toBeUndefined();
  });
});

describe('policies', () => {
  const policy = {
    name: 'node-import-1a2b',
    statements: [
      { name: 'accept-local', conditions: { routeType: 'local' as const }, action: 'accept' as const },
      { name: 'rej4', conditions: { prefixSet: 'own4', neighborSet: 'tors' }, action: 'reject' as const },
      { name: '', conditions: { routeType: 'external' as const }, action: 'accept' as const },
    ],
  };

  it('prefixes statement names with the policy name (they are global in gobgpd)', () => {
    expect(toPolicy(policy)).toEqual({
      name: 'node-import-1a2b',
      statements: [
        {
          name: 'node-import-1a2b/accept-local',
          conditions: { routeType: 'ROUTE_TYPE_LOCAL' },
          actions: { routeAction: 'ACCEPT' },
        },
        {
          name: 'node-import-1a2b/rej4',
          conditions: {
            prefixSet: { name: 'own4', type: 'ANY' },
            neighborSet: { name: 'tors', type: 'ANY' },
          },
          actions: { routeAction: 'REJECT' },
        },
        {
          name: 'node-import-1a2b/2',
          conditions: { routeType: 'ROUTE_TYPE_EXTERNAL' },
          actions: { routeAction: 'ACCEPT' },
        },
      ],
    });
  });

  it('reads ListPolicy back into the same policy', () => {
    const listed = {
      name: 'node-import-1a2b',
      statements: toPolicy(policy).statements?.map((s) => ({
        name: s.name,
        conditions: {
          prefixSet: s.conditions?.prefixSet ?? null,
          neighborSet: s.conditions?.neighborSet ?? null,
          routeType: s.conditions?.routeType ?? 'ROUTE_TYPE_NONE',
          rpkiResult: -1,
          nextHopInList: [],
          afiSafiIn: [],
        },
        actions: { routeAction: s.actions?.routeAction, community: null },
      })),
    };
    const back = fromPolicy(listed as unknown as Parameters<typeof fromPolicy>[0]);
    expect(back).toEqual({
      ...policy,
      statements: policy.statements.map((s, i) => ({ ...s, name: s.name || `${i}` })),
    });
  });

  it('assigns globally; NONE (nothing assigned) reads as accept', () => {
    expect(toAssignment({ direction: 'export', policies: ['a', 'b'], defaultAction: 'reject' })).toEqual({
      name: 'global',
      direction: 'EXPORT',
      policies: [{ name: 'a' }, { name: 'b' }],
      defaultAction: 'REJECT',
    });
    const none = { name: 'global', direction: 'IMPORT', policies: [], defaultAction: 'NONE' };
    expect(fromAssignment('import', none as unknown as Parameters<typeof fromAssignment>[1])).toEqual({
      direction: 'import',
      policies: [],
      defaultAction: 'accept',
    });
    expect(fromAssignment('import', undefined).defaultAction).toBe('accept');
  });
});

describe('communities', () => {
  it('packs a:b as RFC 1997 does', () => {
    expect(parseCommunity('64512:100')).toBe(4227858532);
    expect(parseCommunity('65535:65535')).toBe(0xffffffff);
    expect(formatCommunity(4227858532)).toBe('64512:100');
    expect(() => parseCommunity('65536:1')).toThrow(/not a community/);
    expect(() => parseCommunity('no-export')).toThrow(/not a community/);
  });
});

describe('local paths', () => {
  it('originates with origin IGP, the unspecified next hop by default, communities', () => {
    expect(toLocalPath(4, { prefix: '10.244.1.0/26', communities: ['64512:100'] })).toEqual({
      family: fam4,
      nlri: { '@type': T('IPAddressPrefix'), prefix: '10.244.1.0', prefixLen: 26 },
      pattrs: [
        { '@type': T('OriginAttribute'), origin: 0 },
        { '@type': T('NextHopAttribute'), nextHop: '0.0.0.0' },
        { '@type': T('CommunitiesAttribute'), communities: [4227858532] },
      ],
      isWithdraw: false,
    });
    expect(toLocalPath(6, { prefix: 'fd00:244:1::/64', nextHop: 'fd00:10::1' }).pattrs).toEqual([
      { '@type': T('OriginAttribute'), origin: 0 },
      { '@type': T('NextHopAttribute'), nextHop: 'fd00:10::1' },
    ]);
    expect(toLocalPath(6, { prefix: 'fd00:244:1::/64' }).pattrs?.[1]).toEqual({
      '@type': T('NextHopAttribute'),
      nextHop: '::',
    });
  });

  it('refuses prefixes of the other family or with host bits', () => {
    expect(() => toLocalPath(4, { prefix: 'fd00::/64' })).toThrow(/not an IPv4 prefix/);
    expect(() => toWithdrawPath(6, '10.0.0.0/8')).toThrow(/not an IPv6 prefix/);
    expect(() => toLocalPath(4, { prefix: '10.244.1.1/26' })).toThrow(/host bits/);
  });

  it('withdraws by prefix', () => {
    expect(toWithdrawPath(6, 'fd00:244:1::/64')).toEqual({
      family: fam6,
      nlri: { '@type': T('IPAddressPrefix'), prefix: 'fd00:244:1::', prefixLen: 64 },
      isWithdraw: true,
    });
  });

  it('reads local paths back (0.0.0.0 / :: as absent, IPv6 next hop from MP_REACH)', () => {
    expect(fromLocalPath(path({ prefix: '10.244.1.0/26', communities: [4227858532] }))).toEqual({
      prefix: '10.244.1.0/26',
      communities: ['64512:100'],
    });
    expect(fromLocalPath(path({ prefix: 'fd00:244:1::/64', nextHops: ['::'] }))).toEqual({
      prefix: 'fd00:244:1::/64',
    });
    expect(fromLocalPath(path({ prefix: 'fd00:244:1::/64', nextHops: ['fd00:10::1'] }))).toEqual({
      prefix: 'fd00:244:1::/64',
      nextHop: 'fd00:10::1',
    });
  });
});

describe('best paths from ListPath', () => {
  const ibgp = (nh: string, extra: Partial<PathSpec> = {}) =>
    path({ prefix: '10.244.2.0/26', nextHop: nh, neighbor: nh, sourceAsn: 64512, localPref: 100, ...extra });

  it('rebuilds the ECMP set: the best plus every path that ties with it', () => {
    const d = dest('10.244.2.0/26', [
      ibgp('10.10.0.3', { best: true }),
      ibgp('10.10.0.2'),
      ibgp('10.10.0.4', { localPref: 50 }),
      ibgp('10.10.0.5', { asPath: [65001] }),
      ibgp('10.10.0.6', { med: 10 }),
      ibgp('10.10.0.7', { origin: 2 }),
      ibgp('10.10.0.8', { nexthopInvalid: true }),
      ibgp('10.10.0.2'), // the same next hop via another path: deduplicated
    ]);
    expect(bestPathsOfDestination(4, d, 64512)).toEqual({
      family: 4,
      prefix: '10.244.2.0/26',
      nextHops: ['10.10.0.2', '10.10.0.3'],
      local: false,
    });
  });

  it('does not tie eBGP with iBGP paths, nor learned with local ones', () => {
    const ebgp = path({
      prefix: '10.244.2.0/26',
      nextHop: '10.10.0.254',
      neighbor: '10.10.0.254',
      sourceAsn: 65000,
    });
    const d = dest('10.244.2.0/26', [{ ...ebgp, best: true }, ibgp('10.10.0.2')]);
    expect(bestPathsOfDestination(4, d, 64512)?.nextHops).toEqual(['10.10.0.254']);
    const local = path({ prefix: '10.244.2.0/26', best: true });
    expect(bestPathsOfDestination(4, dest('10.244.2.0/26', [local, ibgp('10.10.0.2')]), 64512)).toEqual({
      family: 4,
      prefix: '10.244.2.0/26',
      nextHops: ['0.0.0.0'],
      local: true,
    });
  });

  it('uses the first path when none is marked best; the first MP_REACH next hop', () => {
    const bird = path({
      prefix: 'fd00:251::/64',
      nextHops: ['fd00:10::b', 'fe80::1'],
      neighbor: 'fd00:10::b',
      sourceAsn: 65011,
    });
    expect(bestPathsOfDestination(6, dest('fd00:251::/64', [bird]), 64512)?.nextHops).toEqual(['fd00:10::b']);
    expect(bestPathsOfDestination(4, dest('x', []), 64512)).toBeUndefined();
  });
});

describe('watch events', () => {
  const table = (paths: Path__Output[]): WatchEventResponse__Output => ({ event: 'table', table: { paths } });

  it('groups the init dump per prefix and keeps the multipath set', () => {
    const msgs = watchMessagesOf(
      table([
        path({ prefix: '10.244.1.0/26', nextHop: '10.10.0.1', neighbor: '10.10.0.1', sourceAsn: 64512 }),
        path({ prefix: '10.244.2.0/26' }),
        path({ prefix: '10.244.1.0/26', nextHop: '10.10.0.3', neighbor: '10.10.0.3', sourceAsn: 64512 }),
        path({ prefix: '10.244.1.0/26', nextHop: '10.10.0.1', neighbor: '10.10.0.9', sourceAsn: 64512 }),
        path({ prefix: 'fd00:244:1::/64', nextHops: ['fd00:10::1'], neighbor: 'fd00:10::1' }),
      ]),
    );
    expect(msgs).toEqual([
      {
        kind: 'best',
        paths: [
          { family: 4, prefix: '10.244.1.0/26', nextHops: ['10.10.0.1', '10.10.0.3'], local: false },
          { family: 4, prefix: '10.244.2.0/26', nextHops: ['0.0.0.0'], local: true },
          { family: 6, prefix: 'fd00:244:1::/64', nextHops: ['fd00:10::1'], local: false },
        ],
      },
    ]);
  });

  it('turns a withdraw into an empty set, keeps the rest of a shrinking set, ignores empty events', () => {
    expect(
      bestPathsOfEvent([
        path({ prefix: '10.244.1.0/26', nextHop: '10.10.0.1', neighbor: '10.10.0.1', withdraw: true }),
      ]),
    ).toEqual([{ family: 4, prefix: '10.244.1.0/26', nextHops: [], local: false }]);
    expect(bestPathsOfEvent([path({ prefix: '10.244.9.0/26', withdraw: true })])).toEqual([
      { family: 4, prefix: '10.244.9.0/26', nextHops: [], local: true },
    ]);
    expect(
      bestPathsOfEvent([
        path({ prefix: '10.244.1.0/26', nextHop: '10.10.0.1', neighbor: '10.10.0.1', withdraw: true }),
        path({ prefix: '10.244.1.0/26', nextHop: '10.10.0.3', neighbor: '10.10.0.3' }),
      ]),
    ).toEqual([{ family: 4, prefix: '10.244.1.0/26', nextHops: ['10.10.0.3'], local: false }]);
    expect(watchMessagesOf(table([]))).toEqual([]);
  });

  it('passes peer states on, not END_OF_INIT', () => {
    const peer = (type: string, address: string, state: string, admin: string) =>
      ({
        event: 'peer',
        peer: {
          type,
          peer: {
            conf: { neighborAddress: address },
            state: { neighborAddress: address, sessionState: state, adminState: admin },
          },
        },
      }) as unknown as WatchEventResponse__Output;
    expect(watchMessagesOf(peer('END_OF_INIT', '<nil>', 'IDLE', 'UP'))).toEqual([]);
    expect(watchMessagesOf(peer('INIT', '10.10.0.2', 'ACTIVE', 'UP'))).toEqual([
      { kind: 'peer', address: '10.10.0.2', state: 'active', adminState: 'up' },
    ]);
    expect(watchMessagesOf(peer('STATE', '10.10.0.2', 'IDLE', 'PFX_CT'))).toEqual([
      { kind: 'peer', address: '10.10.0.2', state: 'idle', adminState: 'pfx_ct' },
    ]);
  });
});

describe('sortByPrefix', () => {
  it('sorts by address, then length, per family', () => {
    const xs = ['10.250.0.0/24', '10.244.1.64/26', '10.244.1.0/26', '10.244.1.0/24', '9.0.0.0/8'].map(
      (prefix) => ({
        prefix,
      }),
    );
    expect(sortByPrefix(xs).map((x) => x.prefix)).toEqual([
      '9.0.0.0/8',
      '10.244.1.0/24',
      '10.244.1.0/26',
      '10.244.1.64/26',
      '10.250.0.0/24',
    ]);
    expect(sortByPrefix([{ prefix: 'fd00:244:10::/64' }, { prefix: 'fd00:244:9::/64' }])).toEqual([
      { prefix: 'fd00:244:9::/64' },
      { prefix: 'fd00:244:10::/64' },
    ]);
  });
});

describe('chunks', () => {
  it('splits into batches', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 1000)).toEqual([]);
  });
});
