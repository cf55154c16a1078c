// An in-memory gobgpd behind the GobgpApi interface, for unit tests (excluded from the build as
// fake-*). It keeps what the real daemon keeps (global, peers, defined sets, policies, global
// assignments, local paths, a best-path table), fails like gobgpd 3.10 does (not started,
// already exists, not found, in use), records every call in order, lets tests push watch
// messages, simulate a daemon restart, and make chosen calls fail.
import { formatCidr, type IpFamily, parseCidr } from '../common/addr.js';
import type {
  AdminState,
  BestPaths,
  BgpGlobal,
  DefinedSet,
  GobgpApi,
  LocalPath,
  PeerConfig,
  PeerStatus,
  Policy,
  PolicyAssignment,
  PolicyDirection,
  SessionState,
  WatchHandle,
  WatchMessage,
} from './gobgp-api.js';
import {
  GobgpAlreadyExistsError,
  GobgpError,
  GobgpInUseError,
  GobgpNotFoundError,
  GobgpNotStartedError,
  GobgpUnavailableError,
} from './gobgp-errors.js';

export type GobgpMethod = Exclude<keyof GobgpApi, 'watch' | 'close'>;

export interface FakeCall {
  method: GobgpMethod;
  args: unknown[];
}

const READS: ReadonlySet<GobgpMethod> = new Set<GobgpMethod>([
  'getGlobal',
  'listPeers',
  'listDefinedSets',
  'listPolicies',
  'getPolicyAssignment',
  'listLocalPaths',
  'listBestPaths',
]);

interface Failure {
  method: GobgpMethod;
  /** Calls still to fail; Infinity: until cleared. */
  times: number;
  error: () => Error;
  match?: (args: unknown[]) => boolean;
}

/** gobgpd's error codes: 2 UNKNOWN with a text, as gobgpd answers everything. */
const UNKNOWN = 2;
const rpc = (method: string): string => method[0]!.toUpperCase() + method.slice(1);
const notStarted = (method: string) =>
  new GobgpNotStartedError(rpc(method), UNKNOWN, "bgp server hasn't started yet");
const exists = (method: string, what: string) => new GobgpAlreadyExistsError(rpc(method), UNKNOWN, what);
const notFound = (method: string, what: string) => new GobgpNotFoundError(rpc(method), UNKNOWN, what);
const inUse = (method: string, what: string) => new GobgpInUseError(rpc(method), UNKNOWN, what);
const invalid = (method: string, what: string) => new GobgpError(rpc(method), UNKNOWN, what);

const emptyAssignment = (direction: PolicyDirection): PolicyAssignment => ({
  direction,
  policies: [],
  defaultAction: 'accept',
});
const setKey = (type: DefinedSet['type'], name: string): string => `${type}|${name}`;
const clone = <T>(v: T): T => structuredClone(v);

export class FakeGobgp implements GobgpApi {
  /** Every call, in order (failed ones too). */
  readonly calls: FakeCall[] = [];
  global: BgpGlobal | undefined;
  readonly peers = new Map<string, PeerStatus>();
  /** Keyed `type|name`. */
  readonly sets = new Map<string, DefinedSet>();
  readonly policies = new Map<string, Policy>();
  assignments: Record<PolicyDirection, PolicyAssignment> = {
    import: emptyAssignment('import'),
    export: emptyAssignment('export'),
  };
  readonly localPaths: Record<IpFamily, Map<string, LocalPath>> = { 4: new Map(), 6: new Map() };
  /** Learned best paths (what peers sent); local paths are added to listBestPaths from localPaths. */
  readonly rib: Record<IpFamily, Map<string, BestPaths>> = { 4: new Map(), 6: new Map() };
  /** Times started (StartBgp) and restarted (restart()). */
  starts = 0;
  restarts = 0;
  closed = false;
  /** false: listPeers leaves passwords out (as a client that cannot read them back would). */
  reportsPasswords = true;
  private readonly watchers = new Set<(m: WatchMessage) => void>();
  private failures: Failure[] = [];

  // ---- test controls ----

  /**
   * Makes the next `times` calls of `method` (Infinity: every call until clearFailures) reject
   * with `error` (default: a GobgpUnavailableError); `match` limits it to some calls.
   */
  fail(
    method: GobgpMethod,
    opts: { times?: number; error?: Error | (() => Error); match?: (args: unknown[]) => boolean } = {},
  ): void {
    const e = opts.error;
    const error =
      typeof e === 'function'
        ? e
        : e
          ? () => e
          : () => new GobgpUnavailableError(rpc(method), 14, 'injected failure');
    this.failures.push({ method, times: opts.times ?? 1, error, match: opts.match });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** Calls recorded so far, as method names. */
  methods(): GobgpMethod[] {
    return this.calls.map((c) => c.method);
  }

  /** Calls that change something (everything but get/list). */
  writes(): FakeCall[] {
    return this.calls.filter((c) => !READS.has(c.method));
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Pushes a message to every watcher. */
  emit(m: WatchMessage): void {
    for (const w of [...this.watchers]) w(clone(m));
  }

  get watching(): number {
    return this.watchers.size;
  }

  /**
   * Sets best paths in the table (empty nextHops: withdrawn) and, unless `silent` (a missed
   * event), tells watchers.
   */
  learn(paths: BestPaths | BestPaths[], opts: { silent?: boolean } = {}): void {
    const list = Array.isArray(paths) ? paths : [paths];
    for (const p of list) {
      if (p.nextHops.length === 0) this.rib[p.family].delete(p.prefix);
      else this.rib[p.family].set(p.prefix, clone(p));
    }
    if (!opts.silent) this.emit({ kind: 'best', paths: list });
  }

  /** Moves a peer's session (and admin state) and tells watchers. */
  setPeerState(address: string, state: SessionState, adminState: AdminState = 'up'): void {
    const peer = this.peers.get(address);
    if (peer) {
      peer.state = state;
      peer.adminState = adminState;
      peer.establishedSince = state === 'established' ? new Date() : undefined;
    }
    this.emit({ kind: 'peer', address, state, adminState });
  }

  /**
   * gobgpd restarted: everything is gone (BGP not started), and watchers get `reset` (no table
   * dump follows: gobgpd sends one only once BGP is started).
   */
  restart(): void {
    this.restarts++;
    this.wipe();
    this.emit({ kind: 'reset' });
  }

  // ---- GobgpApi ----

  async getGlobal(): Promise<BgpGlobal | undefined> {
    this.enter('getGlobal', []);
    return this.global && clone(this.global);
  }

  async startBgp(global: BgpGlobal): Promise<void> {
    this.enter('startBgp', [global]);
    if (this.global) {
      throw invalid('startBgp', `listen tcp4 0.0.0.0:${global.listenPort}: bind: address already in use`);
    }
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(global.routerId)) throw invalid('startBgp', 'invalid router-id format');
    this.global = clone(global);
    this.starts++;
  }

  async stopBgp(): Promise<void> {
    this.enter('stopBgp', []);
    this.started('stopBgp');
    this.wipe();
  }

  async listPeers(): Promise<PeerStatus[]> {
    this.enter('listPeers', []);
    this.started('listPeers');
    return [...this.peers.values()].map((p) => {
      const copy = clone(p);
      if (!this.reportsPasswords) delete copy.config.password;
      // Like gobgpd: an established session reports its source address, configured or not.
      if (p.state === 'established' && !copy.config.localAddress && !p.config.address.includes(':')) {
        copy.config.localAddress = this.global?.routerId;
      }
      return copy;
    });
  }

  async addPeer(peer: PeerConfig): Promise<void> {
    this.enter('addPeer', [peer]);
    this.started('addPeer');
    if (this.peers.has(peer.address)) {
      throw exists('addPeer', `can't overwrite the existing peer: ${peer.address}`);
    }
    this.peers.set(peer.address, {
      config: clone(peer),
      state: 'idle',
      adminState: 'up',
      received: 0,
      accepted: 0,
      advertised: 0,
    });
  }

  async updatePeer(peer: PeerConfig): Promise<void> {
    this.enter('updatePeer', [peer]);
    const status = this.peer('updatePeer', peer.address);
    status.config = clone(peer);
  }

  async deletePeer(address: string): Promise<void> {
    this.enter('deletePeer', [address]);
    this.peer('deletePeer', address);
    this.peers.delete(address);
  }

  async enablePeer(address: string): Promise<void> {
    this.enter('enablePeer', [address]);
    this.peer('enablePeer', address).adminState = 'up';
  }

  async softResetPeer(address: string, direction: 'in' | 'out' | 'both'): Promise<void> {
    this.enter('softResetPeer', [address, direction]);
    this.started('softResetPeer');
    if (address !== 'all' && address !== '') this.peer('softResetPeer', address);
  }

  async listDefinedSets(): Promise<DefinedSet[]> {
    this.enter('listDefinedSets', []);
    this.started('listDefinedSets');
    return [...this.sets.values()].map(clone);
  }

  async addDefinedSet(set: DefinedSet): Promise<void> {
    this.enter('addDefinedSet', [set]);
    this.started('addDefinedSet');
    const key = setKey(set.type, set.name);
    if (this.sets.has(key)) throw exists('addDefinedSet', `defined-set ${set.name} already exists`);
    if (set.type === 'prefix') {
      const families = new Set(set.prefixes.map((p) => parseCidr(p.prefix, { strict: false }).family));
      if (families.size > 1) throw invalid('addDefinedSet', 'multiple families');
    }
    this.sets.set(key, clone(set));
  }

  async deleteDefinedSet(type: DefinedSet['type'], name: string): Promise<void> {
    this.enter('deleteDefinedSet', [type, name]);
    this.started('deleteDefinedSet');
    if (!this.sets.has(setKey(type, name))) {
      throw notFound('deleteDefinedSet', `not found defined-set: ${name}`);
    }
    const user = [...this.policies.values()].find((p) =>
      p.statements.some((s) =>
        type === 'prefix' ? s.conditions.prefixSet === name : s.conditions.neighborSet === name,
      ),
    );
    if (user) throw inUse('deleteDefinedSet', `can't delete. defined-set ${name} is in use`);
    this.sets.delete(setKey(type, name));
  }

  async listPolicies(): Promise<Policy[]> {
    this.enter('listPolicies', []);
    this.started('listPolicies');
    return [...this.policies.values()].map(clone);
  }

  async addPolicy(policy: Policy): Promise<void> {
    this.enter('addPolicy', [policy]);
    this.started('addPolicy');
    if (this.policies.has(policy.name)) throw exists('addPolicy', `policy ${policy.name} already exists`);
    const statements = new Set([...this.policies.values()].flatMap((p) => p.statements.map((s) => s.name)));
    for (const s of policy.statements) {
      if (statements.has(s.name)) throw exists('addPolicy', `statement ${s.name} already defined`);
      statements.add(s.name);
      const { prefixSet, neighborSet } = s.conditions;
      if (prefixSet !== undefined && !this.sets.has(setKey('prefix', prefixSet))) {
        throw notFound('addPolicy', `not found prefix set ${prefixSet}`);
      }
      if (neighborSet !== undefined && !this.sets.has(setKey('neighbor', neighborSet))) {
        throw notFound('addPolicy', `not found neighbor set ${neighborSet}`);
      }
    }
    this.policies.set(policy.name, clone(policy));
  }

  async deletePolicy(name: string): Promise<void> {
    this.enter('deletePolicy', [name]);
    this.started('deletePolicy');
    if (!this.policies.has(name)) throw notFound('deletePolicy', `not found policy ${name}`);
    const { import: imp, export: exp } = this.assignments;
    if (imp.policies.includes(name) || exp.policies.includes(name)) {
      throw inUse('deletePolicy', `can't delete. policy ${name} is in use`);
    }
    this.policies.delete(name);
  }

  async getPolicyAssignment(direction: PolicyDirection): Promise<PolicyAssignment> {
    this.enter('getPolicyAssignment', [direction]);
    this.started('getPolicyAssignment');
    return clone(this.assignments[direction]);
  }

  async setPolicyAssignment(assignment: PolicyAssignment): Promise<void> {
    this.enter('setPolicyAssignment', [assignment]);
    this.started('setPolicyAssignment');
    for (const name of assignment.policies) {
      if (!this.policies.has(name)) throw notFound('setPolicyAssignment', `not found policy ${name}`);
    }
    this.assignments[assignment.direction] = clone(assignment);
  }

  async listLocalPaths(family: IpFamily, prefixes?: readonly string[]): Promise<LocalPath[]> {
    this.enter('listLocalPaths', prefixes ? [family, prefixes] : [family]);
    this.started('listLocalPaths');
    const only = prefixes && new Set(prefixes.map((p) => this.prefix('listLocalPaths', family, p)));
    return [...this.localPaths[family].values()].filter((p) => !only || only.has(p.prefix)).map(clone);
  }

  async addPaths(family: IpFamily, paths: LocalPath[]): Promise<void> {
    this.enter('addPaths', [family, paths]);
    this.started('addPaths');
    const canonical = paths.map((p) => ({ ...clone(p), prefix: this.prefix('addPaths', family, p.prefix) }));
    for (const p of canonical) this.localPaths[family].set(p.prefix, p);
  }

  async deletePaths(family: IpFamily, prefixes: string[]): Promise<void> {
    this.enter('deletePaths', [family, prefixes]);
    this.started('deletePaths');
    // gobgpd's DeletePath without a path deletes every local path: the fake refuses instead.
    if (prefixes.length === 0)
      throw invalid('deletePaths', 'deletePaths with no prefixes (would delete all)');
    for (const p of prefixes) {
      const prefix = this.prefix('deletePaths', family, p);
      if (!this.localPaths[family].delete(prefix)) {
        throw notFound('deletePaths', `can't find a specified path: ${prefix}`);
      }
    }
  }

  async listBestPaths(family: IpFamily): Promise<BestPaths[]> {
    this.enter('listBestPaths', [family]);
    this.started('listBestPaths');
    const local = [...this.localPaths[family].values()].map(
      (p): BestPaths => ({
        family,
        prefix: p.prefix,
        nextHops: [p.nextHop ?? (family === 4 ? '0.0.0.0' : '::')],
        local: true,
      }),
    );
    const localPrefixes = new Set(local.map((p) => p.prefix));
    const learned = [...this.rib[family].values()].filter((p) => !localPrefixes.has(p.prefix)).map(clone);
    return [...local, ...learned];
  }

  watch(onMessage: (m: WatchMessage) => void): WatchHandle {
    this.watchers.add(onMessage);
    return { stop: () => void this.watchers.delete(onMessage) };
  }

  close(): void {
    this.closed = true;
    this.watchers.clear();
  }

  // ---- internals ----

  /** Records the call, then throws an injected failure if one applies. */
  private enter(method: GobgpMethod, args: unknown[]): void {
    this.calls.push({ method, args: clone(args) });
    const i = this.failures.findIndex((f) => f.method === method && (!f.match || f.match(args)));
    if (i < 0) return;
    const f = this.failures[i]!;
    f.times--;
    if (f.times <= 0) this.failures.splice(i, 1);
    throw f.error();
  }

  private started(method: string): void {
    if (!this.global) throw notStarted(method);
  }

  private peer(method: string, address: string): PeerStatus {
    this.started(method);
    const peer = this.peers.get(address);
    if (!peer) throw notFound(method, `neighbor that has ${address} doesn't exist`);
    return peer;
  }

  private prefix(method: string, family: IpFamily, text: string): string {
    const cidr = parseCidr(text);
    if (cidr.family !== family) throw invalid(method, `${text} is not an IPv${family} prefix`);
    return formatCidr(cidr);
  }

  private wipe(): void {
    this.global = undefined;
    this.peers.clear();
    this.sets.clear();
    this.policies.clear();
    this.assignments = { import: emptyAssignment('import'), export: emptyAssignment('export') };
    for (const f of [4, 6] as const) {
      this.localPaths[f].clear();
      this.rib[f].clear();
    }
  }
}
