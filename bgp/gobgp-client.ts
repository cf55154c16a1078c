// GobgpApi over gRPC (@grpc/grpc-js) to a gobgpd sidecar: the only gRPC caller of gobgpd.
// Every call has a deadline and fails fast (no waitForReady) with a GobgpError while gobgpd is
// away; the channel reconnects by itself (backoff capped at 2 s, so a restarted gobgpd is found
// quickly), and watch() resubscribes with its own backoff.
import * as grpc from '@grpc/grpc-js';
import type { IpFamily } from '../common/addr.js';
import type { Log } from '../felix/log.js';
import type { GetBgpResponse__Output } from '../proto/generated/apipb/GetBgpResponse.js';
import type { GobgpApiClient } from '../proto/generated/apipb/GobgpApi.js';
import type { Path } from '../proto/generated/apipb/Path.js';
import type { WatchEventResponse__Output } from '../proto/generated/apipb/WatchEventResponse.js';
import { loadGobgpProto } from '../proto/gobgp.js';
import type {
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
  WatchHandle,
  WatchMessage,
} from './gobgp-api.js';
import {
  bestPathsOfDestination,
  chunks,
  directionOf,
  familyOf,
  fromAssignment,
  fromDefinedSet,
  fromGlobal,
  fromLocalPath,
  fromPeer,
  fromPolicy,
  isLocalPath,
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
import {
  GobgpAlreadyExistsError,
  GobgpError,
  GobgpInUseError,
  GrpcCode,
  toGobgpError,
} from './gobgp-errors.js';

export interface GobgpClientOptions {
  /** gRPC target: `127.0.0.1:50051` or `unix:///run/tabby/gobgpd.sock`. */
  target: string;
  log?: Log;
  /** Deadline of unary calls (default 10 s). */
  timeoutMs?: number;
  /** Deadline of list streams and AddPathStream (default 60 s). */
  streamTimeoutMs?: number;
  /** Watch resubscribe backoff (default 100 ms doubling to 5 s). */
  watchBackoff?: { initialMs: number; maxMs: number };
}

/** The WatchEvent init dump is one message of ~310 bytes per path: 20k routes exceed the 4 MiB default. */
export const MAX_RECEIVE_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Paths per AddPathStream message (measured: 1000/message is the fastest, 50k paths in 2.4 s). */
export const PATHS_PER_MESSAGE = 1000;

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;

export class GobgpClient implements GobgpApi {
  readonly target: string;
  readonly #client: GobgpApiClient;
  readonly #log: Log | undefined;
  readonly #timeoutMs: number;
  readonly #streamTimeoutMs: number;
  readonly #watchBackoff: { initialMs: number; maxMs: number };
  readonly #watches = new Set<WatchHandle>();
  /** Calls in flight: close() cancels them (closing the channel alone lets them run to their deadline). */
  readonly #calls = new Set<{ cancel(): void }>();
  #closed = false;

  constructor(opts: GobgpClientOptions) {
    this.target = opts.target;
    this.#log = opts.log;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#streamTimeoutMs = opts.streamTimeoutMs ?? 60_000;
    this.#watchBackoff = opts.watchBackoff ?? { initialMs: 100, maxMs: 5_000 };
    const pkg = loadGobgpProto();
    this.#client = new pkg.GobgpApi(opts.target, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
      // grpc-js backs off up to 120 s between reconnects by default; gobgpd is local and comes
      // back within a second when the supervisor restarts it.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
  }

  // ---- plumbing ----

  #deadline(ms: number): grpc.CallOptions {
    return { deadline: Date.now() + ms };
  }

  #closedError(op: string): GobgpError {
    return new GobgpError(op, GrpcCode.CANCELLED, 'client closed');
  }

  /** Tracks a call until `done` settles, so that close() can cancel it. */
  #track<T>(call: { cancel(): void }, done: Promise<T>): Promise<T> {
    this.#calls.add(call);
    return done.finally(() => this.#calls.delete(call));
  }

  /** One unary RPC; rejects with a GobgpError. */
  #unary<Res>(
    op: string,
    start: (opts: grpc.CallOptions, cb: Callback<Res>) => grpc.ClientUnaryCall,
  ): Promise<Res> {
    if (this.#closed) return Promise.reject(this.#closedError(op));
    let call: grpc.ClientUnaryCall | undefined;
    const done = new Promise<Res>((resolve, reject) => {
      try {
        call = start(this.#deadline(this.#timeoutMs), (err, res) => {
          if (err) reject(toGobgpError(op, err));
          else resolve(res as Res);
        });
      } catch (e) {
        reject(toGobgpError(op, e));
      }
    });
    return call ? this.#track(call, done) : done;
  }

  /** One server-streaming RPC, collected. */
  #list<Res>(op: string, start: (opts: grpc.CallOptions) => grpc.ClientReadableStream<Res>): Promise<Res[]> {
    if (this.#closed) return Promise.reject(this.#closedError(op));
    let call: grpc.ClientReadableStream<Res> | undefined;
    const done = new Promise<Res[]>((resolve, reject) => {
      const out: Res[] = [];
      try {
        const stream = start(this.#deadline(this.#streamTimeoutMs));
        call = stream;
        stream.on('data', (d: Res) => out.push(d));
        stream.on('error', (e: unknown) => reject(toGobgpError(op, e)));
        stream.on('end', () => resolve(out));
      } catch (e) {
        reject(toGobgpError(op, e));
      }
    });
    return call ? this.#track(call, done) : done;
  }

  /** AddPathStream: `paths` in messages of PATHS_PER_MESSAGE; one bad path fails the lot. */
  #addPathStream(op: string, paths: Path[]): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError(op));
    let call: { cancel(): void } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      try {
        const stream = this.#client.addPathStream(this.#deadline(this.#streamTimeoutMs), (err) => {
          if (err) reject(toGobgpError(op, err));
          else resolve();
        });
        call = stream;
        stream.on('error', () => {}); // the callback above reports it
        for (const batch of chunks(paths, PATHS_PER_MESSAGE))
          stream.write({ tableType: 'GLOBAL', paths: batch });
        stream.end();
      } catch (e) {
        reject(toGobgpError(op, e));
      }
    });
    return call ? this.#track(call, done) : done;
  }

  // ---- global ----

  async getGlobal(): Promise<BgpGlobal | undefined> {
    const r = await this.#unary<GetBgpResponse__Output>('GetBgp', (o, cb) => this.#client.getBgp({}, o, cb));
    return fromGlobal(r?.global);
  }

  async startBgp(global: BgpGlobal): Promise<void> {
    await this.#unary('StartBgp', (o, cb) => this.#client.startBgp({ global: toGlobal(global) }, o, cb));
  }

  async stopBgp(): Promise<void> {
    await this.#unary('StopBgp', (o, cb) => this.#client.stopBgp({}, o, cb));
  }

  // ---- peers ----

  async listPeers(opts: { advertised?: boolean } = {}): Promise<PeerStatus[]> {
    const req = { enableAdvertised: opts.advertised === true };
    const rs = await this.#list('ListPeer', (o) => this.#client.listPeer(req, o));
    return rs
      .flatMap((r) => (r.peer ? [fromPeer(r.peer)] : []))
      .sort((a, b) => a.config.address.localeCompare(b.config.address));
  }

  async addPeer(peer: PeerConfig): Promise<void> {
    const req = { peer: toPeer(peer) };
    await this.#unary('AddPeer', (o, cb) => this.#client.addPeer(req, o, cb));
  }

  /**
   * UpdatePeer (soft reset in when policies need it). gobgpd 3.10 compares the stored, defaulted
   * neighbor config with the request's undefaulted one, so every update resets the session
   * (Cease, then the neighbor is re-added) — call it only for real changes.
   */
  async updatePeer(peer: PeerConfig): Promise<void> {
    const req = { peer: toPeer(peer), doSoftResetIn: true };
    await this.#unary('UpdatePeer', (o, cb) => this.#client.updatePeer(req, o, cb));
  }

  async deletePeer(address: string): Promise<void> {
    await this.#unary('DeletePeer', (o, cb) => this.#client.deletePeer({ address }, o, cb));
  }

  async enablePeer(address: string): Promise<void> {
    await this.#unary('EnablePeer', (o, cb) => this.#client.enablePeer({ address }, o, cb));
  }

  /** Only ever soft: a hard ResetPeer with address '' would reset every session. */
  async softResetPeer(address: string, direction: 'in' | 'out' | 'both'): Promise<void> {
    if (!address) throw new GobgpError('ResetPeer', GrpcCode.UNKNOWN, "empty address (use 'all')");
    const req = {
      address,
      soft: true,
      direction:
        direction === 'in' ? ('IN' as const) : direction === 'out' ? ('OUT' as const) : ('BOTH' as const),
    };
    await this.#unary('ResetPeer', (o, cb) => this.#client.resetPeer(req, o, cb));
  }

  // ---- defined sets ----

  async #listSets(type: 'PREFIX' | 'NEIGHBOR', name = ''): Promise<DefinedSet[]> {
    const rs = await this.#list('ListDefinedSet', (o) =>
      this.#client.listDefinedSet({ definedType: type, name }, o),
    );
    return rs.flatMap((r) => {
      const s = r.definedSet ? fromDefinedSet(r.definedSet) : undefined;
      return s && (!name || s.name === name) ? [s] : [];
    });
  }

  async listDefinedSets(): Promise<DefinedSet[]> {
    return [...(await this.#listSets('PREFIX')), ...(await this.#listSets('NEIGHBOR'))];
  }

  /** gobgpd appends to an existing set of that name; tabby's sets are immutable, so that fails here. */
  async addDefinedSet(set: DefinedSet): Promise<void> {
    const type = set.type === 'prefix' ? 'PREFIX' : 'NEIGHBOR';
    if ((await this.#listSets(type, set.name)).length > 0)
      throw new GobgpAlreadyExistsError(
        'AddDefinedSet',
        GrpcCode.ALREADY_EXISTS,
        `defined set ${set.name} exists`,
      );
    const req = { definedSet: toDefinedSet(set) };
    await this.#unary('AddDefinedSet', (o, cb) => this.#client.addDefinedSet(req, o, cb));
  }

  async deleteDefinedSet(type: DefinedSet['type'], name: string): Promise<void> {
    const req = {
      definedSet: { definedType: type === 'prefix' ? 'PREFIX' : 'NEIGHBOR', name } as const,
      all: true,
    };
    await this.#unary('DeleteDefinedSet', (o, cb) => this.#client.deleteDefinedSet(req, o, cb));
  }

  // ---- policies ----

  /** By name (gobgpd answers in map order). */
  async listPolicies(): Promise<Policy[]> {
    const rs = await this.#list('ListPolicy', (o) => this.#client.listPolicy({}, o));
    return rs
      .flatMap((r) => (r.policy ? [fromPolicy(r.policy)] : []))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** gobgpd appends statements to an existing policy of that name; that fails here instead. */
  async addPolicy(policy: Policy): Promise<void> {
    if ((await this.listPolicies()).some((p) => p.name === policy.name))
      throw new GobgpAlreadyExistsError('AddPolicy', GrpcCode.ALREADY_EXISTS, `policy ${policy.name} exists`);
    const req = { policy: toPolicy(policy) };
    await this.#unary('AddPolicy', (o, cb) => this.#client.addPolicy(req, o, cb));
  }

  /**
   * DeletePolicy with all:true (statements go too). gobgpd 3.10 refuses to delete an EXPORT-
   * assigned policy but deletes an IMPORT-assigned one (its in-use check tests EXPORT twice),
   * leaving the assignment pointing at it: refused here as in use as well.
   */
  async deletePolicy(name: string): Promise<void> {
    const imp = await this.getPolicyAssignment('import');
    if (imp.policies.includes(name))
      throw new GobgpInUseError('DeletePolicy', GrpcCode.UNKNOWN, `can't delete. policy ${name} is in use`);
    await this.#unary('DeletePolicy', (o, cb) =>
      this.#client.deletePolicy({ policy: { name }, all: true }, o, cb),
    );
  }

  async getPolicyAssignment(direction: PolicyDirection): Promise<PolicyAssignment> {
    const rs = await this.#list('ListPolicyAssignment', (o) =>
      this.#client.listPolicyAssignment({ name: 'global', direction: directionOf(direction) }, o),
    );
    return fromAssignment(direction, rs[0]?.assignment);
  }

  async setPolicyAssignment(assignment: PolicyAssignment): Promise<void> {
    const req = { assignment: toAssignment(assignment) };
    await this.#unary('SetPolicyAssignment', (o, cb) => this.#client.setPolicyAssignment(req, o, cb));
  }

  // ---- paths ----

  /** By prefix (gobgpd ignores ListPath's sortType). */
  async listLocalPaths(family: IpFamily, prefixes?: readonly string[]): Promise<LocalPath[]> {
    if (prefixes?.length === 0) return [];
    const req = {
      tableType: 'GLOBAL' as const,
      family: familyOf(family),
      prefixes: prefixes?.map((prefix) => ({ prefix, type: 'EXACT' as const })),
    };
    const rs = await this.#list('ListPath', (o) => this.#client.listPath(req, o));
    const out: LocalPath[] = [];
    for (const r of rs) {
      for (const p of r.destination?.paths ?? []) {
        if (!isLocalPath(p) || p.isWithdraw) continue;
        const lp = fromLocalPath(p);
        if (lp) out.push(lp);
      }
    }
    return sortByPrefix(out);
  }

  async addPaths(family: IpFamily, paths: LocalPath[]): Promise<void> {
    if (paths.length === 0) return;
    await this.#addPathStream(
      'AddPathStream',
      paths.map((p) => toLocalPath(family, p)),
    );
  }

  /**
   * Withdraws by prefix through AddPathStream with isWithdraw (what DeletePath does per path,
   * batched). Never a DeletePath: one without a path deletes every local route.
   */
  async deletePaths(family: IpFamily, prefixes: string[]): Promise<void> {
    if (prefixes.length === 0) return;
    await this.#addPathStream(
      'AddPathStream',
      prefixes.map((p) => toWithdrawPath(family, p)),
    );
  }

  /** ECMP sets rebuilt from ListPath by gobgpd's tie rule (see bestPathsOfDestination), by prefix. */
  async listBestPaths(family: IpFamily): Promise<BestPaths[]> {
    const asn = (await this.getGlobal())?.asn ?? 0;
    const rs = await this.#list('ListPath', (o) =>
      this.#client.listPath({ tableType: 'GLOBAL', family: familyOf(family) }, o),
    );
    return sortByPrefix(
      rs.flatMap((r) => {
        const b = r.destination ? bestPathsOfDestination(family, r.destination, asn) : undefined;
        return b ? [b] : [];
      }),
    );
  }

  // ---- watch ----

  /**
   * WatchEvent (BEST table with init dump + peer states). `{kind:'reset'}` comes with the first
   * message of each subscription (gobgpd always sends one: its peers' END_OF_INIT), before the
   * init dump; if BGP is not started there is no dump, later changes just follow. The first
   * table event of a subscription (the dump) is delivered even when it holds no path; later
   * empty ones are dropped. When a stream that had sent its reset ends (gobgpd gone: code 14),
   * `{kind:'down'}`; it resubscribes with backoff until stop().
   */
  watch(onMessage: (m: WatchMessage) => void): WatchHandle {
    let stopped = false;
    let call: grpc.ClientReadableStream<WatchEventResponse__Output> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let delay = this.#watchBackoff.initialMs;
    let failures = 0;

    const deliver = (m: WatchMessage) => {
      try {
        onMessage(m);
      } catch (e) {
        this.#log?.error({ err: e }, 'gobgp watch: message handler threw');
      }
    };

    const retry = (why: string) => {
      if (stopped) return;
      failures++;
      const msg = `gobgp watch: ${why}; resubscribing in ${delay} ms`;
      if (failures === 1) this.#log?.warn(msg);
      else this.#log?.debug(msg);
      timer = setTimeout(subscribe, delay);
      delay = Math.min(delay * 2, this.#watchBackoff.maxMs);
    };

    const subscribe = () => {
      timer = undefined;
      if (stopped) return;
      if (this.#closed) {
        stopped = true;
        return;
      }
      let first = true;
      let dumpPending = true;
      let ended = false;
      const stream = this.#client.watchEvent({
        table: { filters: [{ type: 'BEST', init: true }] },
        peer: {},
      });
      call = stream;
      const end = (why: string) => {
        if (ended) return;
        ended = true;
        if (call === stream) call = undefined;
        if (!stopped && !first) deliver({ kind: 'down' });
        retry(why);
      };
      stream.on('data', (ev: WatchEventResponse__Output) => {
        if (stopped) return;
        if (first) {
          first = false;
          if (failures > 0) this.#log?.info({ failures }, 'gobgp watch: subscribed again');
          failures = 0;
          delay = this.#watchBackoff.initialMs;
          deliver({ kind: 'reset' });
        }
        const messages = watchMessagesOf(ev);
        if (ev.table && dumpPending) {
          dumpPending = false;
          if (messages.length === 0) messages.push({ kind: 'best', paths: [] });
        }
        for (const m of messages) deliver(m);
      });
      stream.on('error', (e: unknown) => end(toGobgpError('WatchEvent', e).message));
      stream.on('end', () => end('stream ended'));
    };

    const handle: WatchHandle = {
      stop: () => {
        if (stopped) return;
        stopped = true;
        if (timer) clearTimeout(timer);
        timer = undefined;
        call?.cancel();
        call = undefined;
        this.#watches.delete(handle);
      },
    };
    this.#watches.add(handle);
    subscribe();
    return handle;
  }

  /** Stops every watch, cancels the calls in flight and closes the channel; later calls reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#watches]) w.stop();
    for (const c of [...this.#calls]) c.cancel();
    this.#calls.clear();
    this.#client.close();
  }
}
