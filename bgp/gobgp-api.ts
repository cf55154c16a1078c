// The gobgp API as tabby uses it, in tabby's own vocabulary (no proto shapes leak out).
// bgp/gobgp-client.ts implements it over gRPC; unit tests use bgp/fake-gobgp.ts. Every method
// rejects with a GobgpError (bgp/gobgp-errors.ts).
import type { IpFamily } from '../common/addr.js';

/** StartBgp's global settings. */
export interface BgpGlobal {
  asn: number;
  /** Dotted quad. */
  routerId: string;
  /** 179 by default; -1: do not listen. */
  listenPort: number;
  /** Default ['0.0.0.0', '::']. */
  listenAddresses: string[];
}

export type SessionState =
  | 'unknown'
  | 'idle'
  | 'connect'
  | 'active'
  | 'opensent'
  | 'openconfirm'
  | 'established';

/** `pfx_ct`: shut down by a max-prefix limit (needs enablePeer to come back). */
export type AdminState = 'up' | 'down' | 'pfx_ct';

/** A neighbor as tabby configures it (one AddPeer). */
export interface PeerConfig {
  /** Neighbor address (IPv4 or IPv6). */
  address: string;
  asn: number;
  /** Free text; tabby writes `tabby <kind> <name>` here (see peer-description.ts). */
  description: string;
  /** TCP MD5 password; absent: none. */
  password?: string;
  /** Session source address; absent: the kernel picks. */
  localAddress?: string;
  /** Remote TCP port; absent: 179. */
  port?: number;
  holdTime: number;
  keepaliveInterval: number;
  connectRetry: number;
  /** eBGP multihop TTL; absent: single hop (TTL 1). */
  multihopTtl?: number;
  /**
   * Graceful restart (RFC 4724 + notification RFC 8538); absent: off. `deferralTime` (seconds):
   * how long gobgpd, when localRestarting, withholds its UPDATEs waiting for every neighbor's
   * End-of-RIB; absent: gobgp-convert's DEFAULT_GR_DEFERRAL_TIME (30 s; gobgpd's own default is
   * 360 s). Written only: gobgp-convert's fromPeer does not read it back.
   */
  gracefulRestart?: { restartTime: number; localRestarting: boolean; deferralTime?: number };
  /** Set on a reflector for its clients. */
  routeReflectorClient?: { clusterId: string };
  /** Address families the session carries. */
  families: IpFamily[];
  /** Max prefixes accepted per family; absent: no limit. */
  maxPrefixes?: number;
  /** Only accept connections, never dial. */
  passive?: boolean;
}

/** A neighbor as gobgpd reports it. */
export interface PeerStatus {
  config: PeerConfig;
  state: SessionState;
  adminState: AdminState;
  /** When the session last became Established (absent: never / not up). */
  establishedSince?: Date;
  /** Summed over families. */
  received: number;
  accepted: number;
  advertised: number;
}

/** A prefix-set entry: `prefix` with mask lengths minLength..maxLength (exact: both = its length). */
export interface PrefixMatch {
  prefix: string;
  minLength: number;
  maxLength: number;
}

export type DefinedSet =
  | { type: 'prefix'; name: string; prefixes: PrefixMatch[] }
  | { type: 'neighbor'; name: string; addresses: string[] };

export interface PolicyStatement {
  name: string;
  conditions: {
    /** Matches when the prefix is in the named prefix set. */
    prefixSet?: string;
    /** Matches when the route came from a neighbor in the named neighbor set. */
    neighborSet?: string;
    /** local: originated here; internal: learned over iBGP; external: over eBGP. */
    routeType?: 'local' | 'internal' | 'external';
  };
  action: 'accept' | 'reject';
}

export interface Policy {
  name: string;
  statements: PolicyStatement[];
}

export type PolicyDirection = 'import' | 'export';

export interface PolicyAssignment {
  direction: PolicyDirection;
  /** Policy names, in order. */
  policies: string[];
  defaultAction: 'accept' | 'reject';
}

/** A route this node originates. */
export interface LocalPath {
  /** Canonical CIDR. */
  prefix: string;
  /** Absent: 0.0.0.0 / :: (gobgpd uses each session's local address). */
  nextHop?: string;
  communities?: string[];
}

/** One prefix's best path set (several next hops: ECMP). Empty nextHops: withdrawn. */
export interface BestPaths {
  family: IpFamily;
  prefix: string;
  /** Deduplicated, sorted; empty when the prefix was withdrawn. */
  nextHops: string[];
  /** Originated on this node (neighbor `<nil>`). */
  local: boolean;
}

export type WatchMessage =
  /**
   * The stream (re)started: what follows is one `peer` per neighbor (current state), then the
   * whole best table as one `best` (also when empty) if BGP is started, then live changes.
   */
  | { kind: 'reset' }
  /**
   * Best path sets. The first after a `reset` is the whole table (possibly with no paths; when BGP
   * was not started at the subscription there is no dump and the first is a live change, which
   * is as good: the table was empty). Later ones are live changes, never empty.
   */
  | { kind: 'best'; paths: BestPaths[] }
  /**
   * The stream that followed a `reset` ended (gobgpd gone or the connection lost): nothing is
   * known until the next `reset`. Not sent by stop() or close().
   */
  | { kind: 'down' }
  | { kind: 'peer'; address: string; state: SessionState; adminState: AdminState };

export interface WatchHandle {
  /** Ends the stream for good (no reconnect). */
  stop(): void;
}

export interface GobgpApi {
  /** undefined when BGP has not been started (gobgpd fresh or restarted). */
  getGlobal(): Promise<BgpGlobal | undefined>;
  startBgp(global: BgpGlobal): Promise<void>;
  stopBgp(): Promise<void>;

  /**
   * With `advertised`, also counts what is advertised to each neighbor — gobgpd runs its export
   * policy over the whole table per neighbor for that, so only the CLI asks.
   */
  listPeers(opts?: { advertised?: boolean }): Promise<PeerStatus[]>;
  addPeer(peer: PeerConfig): Promise<void>;
  /** Replaces a neighbor's settings (gobgpd resets the session when needed). */
  updatePeer(peer: PeerConfig): Promise<void>;
  deletePeer(address: string): Promise<void>;
  enablePeer(address: string): Promise<void>;
  /** Soft reset (re-run policies) of one neighbor, or every neighbor with 'all'. */
  softResetPeer(address: string | 'all', direction: 'in' | 'out' | 'both'): Promise<void>;

  listDefinedSets(): Promise<DefinedSet[]>;
  /** Creates the set (fails if it exists: tabby names sets by content, so never needs to edit one). */
  addDefinedSet(set: DefinedSet): Promise<void>;
  deleteDefinedSet(type: DefinedSet['type'], name: string): Promise<void>;

  listPolicies(): Promise<Policy[]>;
  addPolicy(policy: Policy): Promise<void>;
  /** Deletes the policy and its statements (not the sets it names). */
  deletePolicy(name: string): Promise<void>;
  getPolicyAssignment(direction: PolicyDirection): Promise<PolicyAssignment>;
  /** Atomically replaces the global assignment of that direction. */
  setPolicyAssignment(assignment: PolicyAssignment): Promise<void>;

  /** Routes originated here (the global RIB's local paths). */
  /** With `prefixes`, only those (exact): cheap, where the whole table is not needed. */
  listLocalPaths(family: IpFamily, prefixes?: readonly string[]): Promise<LocalPath[]>;
  /** Originates (or replaces) routes; one stream for the lot. */
  addPaths(family: IpFamily, paths: LocalPath[]): Promise<void>;
  /** Withdraws routes originated here, by prefix. Never called with an empty list's meaning "all". */
  deletePaths(family: IpFamily, prefixes: string[]): Promise<void>;

  /** The global RIB's best path sets (learned and local). */
  listBestPaths(family: IpFamily): Promise<BestPaths[]>;
  /**
   * Best-path and peer-state events. Reconnects by itself with backoff after gobgpd goes away:
   * `{kind:'down'}` when a stream ends, `{kind:'reset'}` before each (re)start's full table.
   */
  watch(onMessage: (m: WatchMessage) => void): WatchHandle;

  close(): void;
}
