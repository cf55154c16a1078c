// Pure conversions between tabby's gobgp vocabulary (gobgp-api.ts) and gobgpd 3.10's protobuf
// shapes as @grpc/proto-loader decodes them (proto/gobgp.ts options: camelCase, enums and
// uint64 as strings, defaults filled in, Any expanded to { '@type', ...fields }).
import { type IpFamily, parseCidr, toBigInt } from '../common/addr.js';
import type { DefinedSet__Output, DefinedSet as PbDefinedSet } from '../proto/generated/apipb/DefinedSet.js';
import type { Destination__Output } from '../proto/generated/apipb/Destination.js';
import type { Family, Family__Output } from '../proto/generated/apipb/Family.js';
import type { Global__Output, Global as PbGlobal } from '../proto/generated/apipb/Global.js';
import type { Path__Output, Path as PbPath } from '../proto/generated/apipb/Path.js';
import type { Peer as PbPeer, Peer__Output } from '../proto/generated/apipb/Peer.js';
import type { Policy as PbPolicy, Policy__Output } from '../proto/generated/apipb/Policy.js';
import type {
  PolicyAssignment as PbPolicyAssignment,
  PolicyAssignment__Output,
} from '../proto/generated/apipb/PolicyAssignment.js';
import type { WatchEventResponse__Output } from '../proto/generated/apipb/WatchEventResponse.js';
import type { Any } from '../proto/generated/google/protobuf/Any.js';
import { anyOf, anyType } from '../proto/gobgp.js';
import type {
  AdminState,
  BestPaths,
  BgpGlobal,
  DefinedSet,
  LocalPath,
  PeerConfig,
  PeerStatus,
  Policy,
  PolicyAssignment,
  PolicyDirection,
  PolicyStatement,
  SessionState,
  WatchMessage,
} from './gobgp-api.js';

/** gobgpd's name for "no neighbor": locally originated paths and the END_OF_INIT peer event. */
export const NIL_ADDRESS = '<nil>';
/** Max-prefix limits warn at this share (gobgpd logs it), then shut the session down. */
export const SHUTDOWN_THRESHOLD_PCT = 80;

// ---- families ----

export const familyOf = (f: IpFamily): Family => ({
  afi: f === 4 ? 'AFI_IP' : 'AFI_IP6',
  safi: 'SAFI_UNICAST',
});

/** 4 or 6 for IPv4/IPv6 unicast; undefined for any other family (ignored by tabby). */
export function ipFamilyOf(f: Family__Output | null | undefined): IpFamily | undefined {
  if (f?.safi !== 'SAFI_UNICAST') return undefined;
  if (f.afi === 'AFI_IP') return 4;
  if (f.afi === 'AFI_IP6') return 6;
  return undefined;
}

/** The unspecified next hop: gobgpd replaces it with each session's local address. */
export const defaultNextHop = (f: IpFamily): string => (f === 4 ? '0.0.0.0' : '::');

// ---- global ----

/** StartBgp's global. ECMP (useMultiplePaths) is always on: best events carry the whole set. */
export const toGlobal = (g: BgpGlobal): PbGlobal => ({
  asn: g.asn,
  routerId: g.routerId,
  listenPort: g.listenPort,
  listenAddresses: g.listenAddresses,
  useMultiplePaths: true,
});

/** undefined when BGP has not been started (asn 0). */
export function fromGlobal(g: Global__Output | null | undefined): BgpGlobal | undefined {
  if (!g?.asn) return undefined;
  return {
    asn: g.asn,
    routerId: g.routerId,
    listenPort: g.listenPort,
    listenAddresses: [...g.listenAddresses],
  };
}

// ---- peers ----

/**
 * Graceful-restart selection deferral (seconds) when PeerConfig.gracefulRestart gives none. A
 * neighbor added with localRestarting gets no UPDATE from gobgpd until every neighbor sent its
 * End-of-RIB or this time passed; gobgpd's own default (0 in the request) is 360 s, which would
 * withhold this node's blocks for 6 minutes behind one neighbor that never sends an End-of-RIB
 * (one without GR, one that is down). 30 s covers a full table from a ToR many times over.
 * Applied here because the desired state (bgp/desired-peers.ts) does not set it.
 */
export const DEFAULT_GR_DEFERRAL_TIME = 30;

export function toPeer(p: PeerConfig): PbPeer {
  const gr = p.gracefulRestart;
  return {
    conf: {
      neighborAddress: p.address,
      peerAsn: p.asn,
      description: p.description,
      authPassword: p.password ?? '',
    },
    timers: {
      config: {
        connectRetry: p.connectRetry,
        holdTime: p.holdTime,
        keepaliveInterval: p.keepaliveInterval,
      },
    },
    transport: {
      localAddress: p.localAddress ?? '',
      remotePort: p.port ?? 0,
      passiveMode: p.passive ?? false,
    },
    ebgpMultihop: { enabled: p.multihopTtl !== undefined, multihopTtl: p.multihopTtl ?? 0 },
    gracefulRestart: gr
      ? {
          enabled: true,
          restartTime: gr.restartTime,
          // RFC 8538: a Cease (gobgpd's SIGTERM, a hard reset) keeps the routes stale instead of
          // withdrawing them at once, like a crash does.
          notificationEnabled: true,
          localRestarting: gr.localRestarting,
          deferralTime: gr.deferralTime ?? DEFAULT_GR_DEFERRAL_TIME,
        }
      : { enabled: false },
    routeReflector: p.routeReflectorClient
      ? { routeReflectorClient: true, routeReflectorClusterId: p.routeReflectorClient.clusterId }
      : { routeReflectorClient: false },
    afiSafis: p.families.map((f) => ({
      config: { family: familyOf(f), enabled: true },
      mpGracefulRestart: { config: { enabled: gr !== undefined } },
      ...(p.maxPrefixes !== undefined
        ? {
            prefixLimits: {
              family: familyOf(f),
              maxPrefixes: p.maxPrefixes,
              shutdownThresholdPct: SHUTDOWN_THRESHOLD_PCT,
            },
          }
        : {}),
    })),
  };
}

const sessionStates: Record<string, SessionState> = {
  UNKNOWN: 'unknown',
  IDLE: 'idle',
  CONNECT: 'connect',
  ACTIVE: 'active',
  OPENSENT: 'opensent',
  OPENCONFIRM: 'openconfirm',
  ESTABLISHED: 'established',
};
export const sessionStateOf = (s: string | undefined): SessionState => sessionStates[s ?? ''] ?? 'unknown';

const adminStates: Record<string, AdminState> = { UP: 'up', DOWN: 'down', PFX_CT: 'pfx_ct' };
export const adminStateOf = (s: string | undefined): AdminState => adminStates[s ?? ''] ?? 'up';

/** A uint64 that proto-loader hands over as a decimal string. */
const num = (v: string | number | null | undefined): number =>
  v === null || v === undefined ? 0 : Number(v);

/**
 * A ListPeer entry. What gobgpd reports back differs from what was sent in a few places:
 * - `localAddress`: while Established, gobgpd reports the session's actual source address, also
 *   when none was configured;
 * - the password comes back in clear (gobgpd does not hide it);
 * - `maxPrefixes` is read from the first family that has a limit (tabby sets one for all).
 */
export function fromPeer(p: Peer__Output): PeerStatus {
  const conf = p.conf;
  const transport = p.transport;
  const timers = p.timers?.config;
  const gr = p.gracefulRestart;
  const rr = p.routeReflector;
  const families: IpFamily[] = [];
  let maxPrefixes: number | undefined;
  let received = 0;
  let accepted = 0;
  let advertised = 0;
  for (const af of p.afiSafis) {
    const f = ipFamilyOf(af.config?.family);
    if (f !== undefined && af.config?.enabled && !families.includes(f)) families.push(f);
    if (maxPrefixes === undefined && af.prefixLimits && af.prefixLimits.maxPrefixes > 0)
      maxPrefixes = af.prefixLimits.maxPrefixes;
    if (af.state) {
      received += num(af.state.received);
      accepted += num(af.state.accepted);
      advertised += num(af.state.advertised);
    }
  }
  const config: PeerConfig = {
    address: conf?.neighborAddress || p.state?.neighborAddress || '',
    asn: conf?.peerAsn ?? 0,
    description: conf?.description ?? '',
    holdTime: num(timers?.holdTime),
    keepaliveInterval: num(timers?.keepaliveInterval),
    connectRetry: num(timers?.connectRetry),
    families,
  };
  if (conf?.authPassword) config.password = conf.authPassword;
  if (transport?.localAddress) config.localAddress = transport.localAddress;
  if (transport?.remotePort) config.port = transport.remotePort;
  if (p.ebgpMultihop?.enabled) config.multihopTtl = p.ebgpMultihop.multihopTtl;
  if (gr?.enabled)
    config.gracefulRestart = { restartTime: gr.restartTime, localRestarting: gr.localRestarting };
  if (rr?.routeReflectorClient) config.routeReflectorClient = { clusterId: rr.routeReflectorClusterId };
  if (maxPrefixes !== undefined) config.maxPrefixes = maxPrefixes;
  if (transport?.passiveMode) config.passive = true;

  const state = sessionStateOf(p.state?.sessionState);
  const status: PeerStatus = {
    config,
    state,
    adminState: adminStateOf(p.state?.adminState),
    received,
    accepted,
    advertised,
  };
  const uptime = p.timers?.state?.uptime;
  if (state === 'established' && uptime && num(uptime.seconds) > 0)
    status.establishedSince = new Date(num(uptime.seconds) * 1000 + Math.floor(uptime.nanos / 1e6));
  return status;
}

// ---- defined sets ----

const hostBits = (address: string): number => (address.includes(':') ? 128 : 32);

export function toDefinedSet(s: DefinedSet): PbDefinedSet {
  if (s.type === 'prefix') {
    return {
      definedType: 'PREFIX',
      name: s.name,
      prefixes: s.prefixes.map((p) => ({
        ipPrefix: p.prefix,
        maskLengthMin: p.minLength,
        maskLengthMax: p.maxLength,
      })),
    };
  }
  // gobgpd wants prefixes here ("invalid address or prefix" for a bare address).
  return {
    definedType: 'NEIGHBOR',
    name: s.name,
    list: s.addresses.map((a) => (a.includes('/') ? a : `${a}/${hostBits(a)}`)),
  };
}

/** undefined for set types tabby does not use (community, AS path...). */
export function fromDefinedSet(s: DefinedSet__Output): DefinedSet | undefined {
  if (s.definedType === 'PREFIX') {
    return {
      type: 'prefix',
      name: s.name,
      prefixes: s.prefixes.map((p) => ({
        prefix: p.ipPrefix,
        minLength: p.maskLengthMin,
        maxLength: p.maskLengthMax,
      })),
    };
  }
  if (s.definedType === 'NEIGHBOR') {
    return {
      type: 'neighbor',
      name: s.name,
      addresses: s.list.map((a) => {
        const [addr = a, len] = a.split('/');
        return len !== undefined && Number(len) === hostBits(addr) ? addr : a;
      }),
    };
  }
  return undefined;
}

// ---- policies ----

/**
 * gobgpd's statement names are global across policies, so each is sent as `<policy>/<statement>`
 * (or `<policy>/<index>` when unnamed) and the prefix is taken off again when read back.
 */
export const statementName = (policy: string, statement: string, index: number): string =>
  `${policy}/${statement || index}`;

const routeTypes = {
  local: 'ROUTE_TYPE_LOCAL',
  internal: 'ROUTE_TYPE_INTERNAL',
  external: 'ROUTE_TYPE_EXTERNAL',
} as const;

export function toPolicy(p: Policy): PbPolicy {
  return {
    name: p.name,
    statements: p.statements.map((s, i) => ({
      name: statementName(p.name, s.name, i),
      conditions: {
        ...(s.conditions.prefixSet ? { prefixSet: { name: s.conditions.prefixSet, type: 'ANY' } } : {}),
        ...(s.conditions.neighborSet ? { neighborSet: { name: s.conditions.neighborSet, type: 'ANY' } } : {}),
        ...(s.conditions.routeType ? { routeType: routeTypes[s.conditions.routeType] } : {}),
      },
      actions: { routeAction: s.action === 'accept' ? 'ACCEPT' : 'REJECT' },
    })),
  };
}

export function fromPolicy(p: Policy__Output): Policy {
  const prefix = `${p.name}/`;
  return {
    name: p.name,
    statements: p.statements.map((s): PolicyStatement => {
      const c = s.conditions;
      const conditions: PolicyStatement['conditions'] = {};
      if (c?.prefixSet?.name) conditions.prefixSet = c.prefixSet.name;
      if (c?.neighborSet?.name) conditions.neighborSet = c.neighborSet.name;
      if (c?.routeType === 'ROUTE_TYPE_LOCAL') conditions.routeType = 'local';
      else if (c?.routeType === 'ROUTE_TYPE_INTERNAL') conditions.routeType = 'internal';
      else if (c?.routeType === 'ROUTE_TYPE_EXTERNAL') conditions.routeType = 'external';
      return {
        name: s.name.startsWith(prefix) ? s.name.slice(prefix.length) : s.name,
        conditions,
        action: s.actions?.routeAction === 'REJECT' ? 'reject' : 'accept',
      };
    }),
  };
}

export const directionOf = (d: PolicyDirection): 'IMPORT' | 'EXPORT' =>
  d === 'import' ? 'IMPORT' : 'EXPORT';

/** Only the global RIB's assignments: gobgpd refuses per-peer ones for non-route-server clients. */
export const toAssignment = (a: PolicyAssignment): PbPolicyAssignment => ({
  name: 'global',
  direction: directionOf(a.direction),
  policies: a.policies.map((name) => ({ name })),
  defaultAction: a.defaultAction === 'accept' ? 'ACCEPT' : 'REJECT',
});

/** gobgpd's NONE default (nothing assigned yet) behaves as accept. */
export const fromAssignment = (
  direction: PolicyDirection,
  a: PolicyAssignment__Output | null | undefined,
): PolicyAssignment => ({
  direction,
  policies: (a?.policies ?? []).map((p) => p.name),
  defaultAction: a?.defaultAction === 'REJECT' ? 'reject' : 'accept',
});

// ---- communities ----

/** "64512:100" → 4227858532 (RFC 1997: high 16 bits the AS, low 16 bits the value). */
export function parseCommunity(text: string): number {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  const hi = Number(m?.[1]);
  const lo = Number(m?.[2]);
  if (!m || hi > 0xffff || lo > 0xffff)
    throw new Error(`"${text}" is not a community (expected a:b, 0-65535)`);
  return hi * 0x10000 + lo;
}

export const formatCommunity = (c: number): string => `${Math.floor(c / 0x10000)}:${c % 0x10000}`;

// ---- paths ----

function nlriOf(prefix: string): { family: IpFamily; nlri: Any } {
  const c = parseCidr(prefix);
  return {
    family: c.family,
    nlri: anyOf('IPAddressPrefix', { prefix: c.network, prefixLen: c.prefixLength }),
  };
}

function checkFamily(family: IpFamily, prefix: string, got: IpFamily): void {
  if (got !== family) throw new Error(`${prefix} is not an IPv${family} prefix`);
}

/**
 * A path to originate: origin IGP (mandatory), next hop (mandatory; 0.0.0.0 / :: lets gobgpd use
 * each session's local address; for IPv6 gobgpd turns NextHopAttribute into MP_REACH itself),
 * communities.
 */
export function toLocalPath(family: IpFamily, p: LocalPath): PbPath {
  const { family: got, nlri } = nlriOf(p.prefix);
  checkFamily(family, p.prefix, got);
  const pattrs: Any[] = [
    anyOf('OriginAttribute', { origin: 0 }),
    anyOf('NextHopAttribute', { nextHop: p.nextHop ?? defaultNextHop(family) }),
  ];
  if (p.communities && p.communities.length > 0)
    pattrs.push(anyOf('CommunitiesAttribute', { communities: p.communities.map(parseCommunity) }));
  return { family: familyOf(family), nlri, pattrs, isWithdraw: false };
}

/** A withdrawal by prefix (no next hop needed with isWithdraw). */
export function toWithdrawPath(family: IpFamily, prefix: string): PbPath {
  const { family: got, nlri } = nlriOf(prefix);
  checkFamily(family, prefix, got);
  return { family: familyOf(family), nlri, isWithdraw: true };
}

type Attr = Record<string, unknown>;

const attrOf = (p: Path__Output, type: string): Attr | undefined =>
  p.pattrs.find((a) => anyType(a) === type) as Attr | undefined;

/** "10.244.1.0/26" of an IPAddressPrefix NLRI, canonical; undefined for other NLRI types. */
export function prefixOf(p: Path__Output): string | undefined {
  const n = p.nlri as Attr | null;
  if (!n || anyType(n) !== 'IPAddressPrefix') return undefined;
  try {
    const c = parseCidr(`${String(n.prefix)}/${String(n.prefixLen)}`, { strict: false });
    return `${c.network}/${c.prefixLength}`;
  } catch {
    return undefined;
  }
}

/** NEXT_HOP, else MP_REACH's first next hop (BIRD sends global + link-local: the global comes first). */
export function nextHopOf(p: Path__Output): string | undefined {
  const nh = attrOf(p, 'NextHopAttribute');
  if (nh && typeof nh.nextHop === 'string' && nh.nextHop) return nh.nextHop;
  const mp = attrOf(p, 'MpReachNLRIAttribute');
  const hops = mp?.nextHops;
  if (Array.isArray(hops) && typeof hops[0] === 'string' && hops[0]) return hops[0];
  return undefined;
}

/** Originated on this node: gobgpd has no neighbor for it. */
export const isLocalPath = (p: Path__Output): boolean => !p.neighborIp || p.neighborIp === NIL_ADDRESS;

/** A local path as tabby wrote it (the unspecified next hop reads back as absent). */
export function fromLocalPath(p: Path__Output): LocalPath | undefined {
  const prefix = prefixOf(p);
  if (!prefix) return undefined;
  const out: LocalPath = { prefix };
  const nh = nextHopOf(p);
  if (nh && nh !== '0.0.0.0' && nh !== '::') out.nextHop = nh;
  const comm = attrOf(p, 'CommunitiesAttribute')?.communities;
  if (Array.isArray(comm) && comm.length > 0) out.communities = comm.map((c) => formatCommunity(Number(c)));
  return out;
}

const sortedUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** The attributes gobgpd's Path.Compare looks at when deciding whether two paths tie (ECMP). */
export interface PathRank {
  local: boolean;
  ibgp: boolean;
  localPref: number;
  asPathLength: number;
  origin: number;
  med: number;
}

/** AS_SEQUENCE counts each AS, AS_SET counts 1, confederation segments 0 (gobgp's GetAsPathLen). */
function asPathLength(p: Path__Output): number {
  const segs = attrOf(p, 'AsPathAttribute')?.segments;
  if (!Array.isArray(segs)) return 0;
  let n = 0;
  for (const s of segs as { type?: unknown; numbers?: unknown[] }[]) {
    if (s.type === 'AS_SEQUENCE' || s.type === 2) n += s.numbers?.length ?? 0;
    else if (s.type === 'AS_SET' || s.type === 1) n += 1;
  }
  return n;
}

export function rankOf(p: Path__Output, localAsn: number): PathRank {
  const lp = attrOf(p, 'LocalPrefAttribute')?.localPref;
  const origin = attrOf(p, 'OriginAttribute')?.origin;
  const med = attrOf(p, 'MultiExitDiscAttribute')?.med;
  return {
    local: isLocalPath(p),
    ibgp: p.sourceAsn !== 0 && p.sourceAsn === localAsn,
    localPref: typeof lp === 'number' ? lp : 100,
    asPathLength: asPathLength(p),
    origin: typeof origin === 'number' ? origin : 0,
    med: typeof med === 'number' ? med : 0,
  };
}

const sameRank = (a: PathRank, b: PathRank): boolean =>
  a.local === b.local &&
  a.ibgp === b.ibgp &&
  a.localPref === b.localPref &&
  a.asPathLength === b.asPathLength &&
  a.origin === b.origin &&
  a.med === b.med;

/**
 * One ListPath destination as a best path set. ListPath marks a single path best (its
 * multipath flag only covers identical paths from one source), so the ECMP set is rebuilt the
 * way gobgpd's getMultiBestPath does: the best path plus every other path with a valid next hop
 * that ties with it under Path.Compare — same locality, same iBGP/eBGP, local-pref, AS-path
 * length, origin and MED. `localAsn` tells iBGP paths (source AS = own AS) from eBGP ones.
 */
export function bestPathsOfDestination(
  family: IpFamily,
  d: Destination__Output,
  localAsn: number,
): BestPaths | undefined {
  const paths = d.paths.filter((p) => !p.isWithdraw);
  const best = paths.find((p) => p.best) ?? paths[0];
  if (!best) return undefined;
  const prefix = prefixOf(best);
  if (!prefix) return undefined;
  const bestRank = rankOf(best, localAsn);
  const set = paths.filter(
    (p) => p === best || (!p.isNexthopInvalid && sameRank(rankOf(p, localAsn), bestRank)),
  );
  return {
    family,
    prefix,
    nextHops: sortedUnique(set.map(nextHopOf).filter((h): h is string => h !== undefined)),
    local: isLocalPath(best),
  };
}

/**
 * A BEST table event as best path sets, one per prefix, in event order. With useMultiplePaths
 * each event carries the prefix's complete current multipath set (when one member goes, the
 * rest come again without a withdraw flag), so every prefix's set replaces the previous one;
 * only withdrawn paths: the prefix is gone (nextHops []). The init dump is one event holding
 * every prefix. Other families are skipped; an empty event gives [].
 */
export function bestPathsOfEvent(paths: readonly Path__Output[]): BestPaths[] {
  const groups = new Map<string, { family: IpFamily; prefix: string; paths: Path__Output[] }>();
  for (const p of paths) {
    const family = ipFamilyOf(p.family);
    const prefix = prefixOf(p);
    if (family === undefined || prefix === undefined) continue;
    const key = `${family}|${prefix}`;
    let g = groups.get(key);
    if (!g) {
      g = { family, prefix, paths: [] };
      groups.set(key, g);
    }
    g.paths.push(p);
  }
  const out: BestPaths[] = [];
  for (const g of groups.values()) {
    const live = g.paths.filter((p) => !p.isWithdraw);
    out.push({
      family: g.family,
      prefix: g.prefix,
      nextHops: sortedUnique(live.map(nextHopOf).filter((h): h is string => h !== undefined)),
      local: (live.length > 0 ? live : g.paths).some(isLocalPath),
    });
  }
  return out;
}

/** A WatchEvent message as tabby's messages (none for empty table events and END_OF_INIT). */
export function watchMessagesOf(ev: WatchEventResponse__Output): WatchMessage[] {
  if (ev.table) {
    const paths = bestPathsOfEvent(ev.table.paths);
    return paths.length > 0 ? [{ kind: 'best', paths }] : [];
  }
  if (ev.peer) {
    if (ev.peer.type === 'END_OF_INIT') return [];
    const peer = ev.peer.peer;
    const address = peer?.state?.neighborAddress || peer?.conf?.neighborAddress || '';
    if (!address || address === NIL_ADDRESS) return [];
    return [
      {
        kind: 'peer',
        address,
        state: sessionStateOf(peer?.state?.sessionState),
        adminState: adminStateOf(peer?.state?.adminState),
      },
    ];
  }
  return [];
}

/**
 * Sorted by prefix (address, then length). gobgpd 3.10 ignores ListPath's sortType and answers
 * in Go map order, so lists are sorted here.
 */
export function sortByPrefix<T extends { prefix: string }>(xs: T[]): T[] {
  const key = (p: string): [bigint, number] => {
    const slash = p.indexOf('/');
    try {
      return [toBigInt(p.slice(0, slash)), Number(p.slice(slash + 1))];
    } catch {
      return [-1n, 0];
    }
  };
  return xs
    .map((x) => ({ x, k: key(x.prefix) }))
    .sort((a, b) => (a.k[0] < b.k[0] ? -1 : a.k[0] > b.k[0] ? 1 : a.k[1] - b.k[1]))
    .map(({ x }) => x);
}

/** Splits `xs` into chunks of at most `size`. */
export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
