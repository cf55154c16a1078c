// The route table reconciler: owns every route carrying tabby's protocol in one namespace.
//
// Setters only change desired state and mark keys dirty; passes do all the I/O. A pass lists
// the kernel when a full resync is due, diffs the due dirty keys and writes the ops in one
// `ip -batch`. Failures are per key: a failed key backs off, a key whose device is missing
// waits (pending), a key held by a foreign route is a conflict, retried on resyncs. Full
// resyncs come at start, periodically, and (debounced) when the route monitor reports a
// tabby-protocol route that disagrees with the cache; events that agree (our own writes) are
// ignored. Passes never overlap, and events that arrive during one are read after it.
import type { RouteOpResult } from '../../kernel/route-batch.js';
import { canonicalPrefix, canonicalRoute, type KernelRoute, MAIN_TABLE } from '../../kernel/route-spec.js';
import type { Log } from '../log.js';
import { DesiredRoutes } from './desired.js';
import { type PlannedOp, planRouteOps } from './diff.js';
import { EarliestTimer } from './earliest-timer.js';
import { FlushBarrier } from './flush-barrier.js';
import { KernelCache } from './kernel-cache.js';
import { asKernelError, type KernelPort, linuxKernelPort, type RouteWatch } from './kernel-port.js';
import { backoffMs, KeyStatus } from './key-status.js';
import { interpretRouteEvents } from './monitor-events.js';
import { describeRoute, routeKey } from './route-key.js';
import {
  type IpFamily,
  type Route,
  type RouteKey,
  type RouteSource,
  type RouteTableSnapshot,
  RouteTableStoppedError,
} from './types.js';

export interface RouteTableTiming {
  /** Changes are gathered this long before a pass writes them (bounded latency, not a debounce). */
  applyDelayMs: number;
  /** A monitor event that disagrees with the cache triggers a full resync after this long. */
  resyncDelayMs: number;
  /** Retry backoff of failed keys and failed passes: base, cap. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Longest wait between retries of a route waiting for its device. */
  pendingRetryMaxMs: number;
  /** Attempts of the first resync before start() gives up. */
  startAttempts: number;
}

export interface RouteTableOptions {
  /** A name under /run/netns; undefined: the agent's own namespace. */
  netns?: string;
  /** Route protocol number tabby writes, lists and deletes by (1-255). */
  protocol: number;
  /** Full list-and-diff period (default 60 s). */
  resyncIntervalMs?: number;
  /** How long a route may wait for its device before it is reported (default 10 s). */
  missingDeviceGraceMs?: number;
  log: Log;
  kernel?: KernelPort;
  timing?: Partial<RouteTableTiming>;
}

const DEFAULT_TIMING: RouteTableTiming = {
  applyDelayMs: 5,
  resyncDelayMs: 30,
  retryBaseMs: 50,
  retryMaxMs: 5_000,
  pendingRetryMaxMs: 1_000,
  startAttempts: 3,
};

/** Deletes carry the kernel route they remove; adds and replaces a desired route. */
const isKernelRoute = (r: Route | KernelRoute): r is KernelRoute => 'protocol' in r;

type State = 'new' | 'starting' | 'running' | 'stopped';

export class RouteTable {
  private readonly protocol: number;
  private readonly resyncIntervalMs: number;
  private readonly timing: RouteTableTiming;
  private readonly log: Log;
  private readonly kernel: KernelPort;
  private readonly desired = new DesiredRoutes();
  private readonly cache = new KernelCache();
  private readonly status: KeyStatus;
  private readonly dirty = new Set<RouteKey>();
  private state: State = 'new';
  private fullResyncNeeded = true;
  /** When the wanted full resync is due (its debounce). */
  private resyncDueAt = 0;
  /** No full resync before this time (backoff after failed passes). */
  private resyncNotBefore = 0;
  private failedPasses = 0;
  private readonly flushes = new FlushBarrier();
  private readonly passTimer = new EarliestTimer(() => this.kick());
  private passInFlight: Promise<void> | undefined;
  private passAgain = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private watch: RouteWatch | undefined;
  private eventLines: string[] = [];
  private eventsScheduled = false;

  constructor(opts: RouteTableOptions) {
    if (!Number.isInteger(opts.protocol) || opts.protocol < 1 || opts.protocol > 255) {
      throw new RangeError(`route protocol must be 1-255, not ${opts.protocol}`);
    }
    this.protocol = opts.protocol;
    this.resyncIntervalMs = opts.resyncIntervalMs ?? 60_000;
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.log = opts.log;
    this.kernel = opts.kernel ?? linuxKernelPort(opts.netns, opts.protocol);
    this.status = new KeyStatus({
      baseMs: this.timing.retryBaseMs,
      maxMs: this.timing.retryMaxMs,
      pendingMaxMs: this.timing.pendingRetryMaxMs,
      graceMs: opts.missingDeviceGraceMs ?? 10_000,
    });
  }

  // ---- desired state (no I/O) ----

  /** Replaces `source`'s whole set. Throws RouteSpecError (and changes nothing) on an invalid route. */
  setRoutes(source: RouteSource, routes: readonly Route[]): void {
    const canonical = routes.map(canonicalRoute);
    this.changed(this.desired.set(source, canonical));
  }

  upsert(source: RouteSource, route: Route): void {
    const key = this.desired.upsert(source, canonicalRoute(route));
    if (key) this.changed([key]);
  }

  remove(source: RouteSource, family: IpFamily, dst: string, table: number = MAIN_TABLE): void {
    const key = routeKey(table, canonicalPrefix(family, dst));
    if (this.desired.remove(source, key)) this.changed([key]);
  }

  /**
   * Where one destination stands after the last pass: 'installed' (tabby's route is in the
   * kernel), 'pending' (its device is missing), 'conflict' (a foreign route holds it), 'failed'
   * (a write failed; retried), or 'absent' (not desired, not installed). O(1): for callers that
   * must know their own route made it (CNI ADD).
   */
  routeState(
    family: IpFamily,
    dst: string,
    table: number = MAIN_TABLE,
  ): 'installed' | 'pending' | 'conflict' | 'failed' | 'absent' {
    const key = routeKey(table, canonicalPrefix(family, dst));
    const trouble = this.status.trouble(key);
    if (trouble === 'pending' || trouble === 'conflict') return trouble;
    if (trouble !== undefined) return 'failed';
    return this.cache.get(key).length > 0 ? 'installed' : 'absent';
  }

  snapshot(): RouteTableSnapshot {
    return {
      desired: this.desired.winners(),
      kernel: this.cache.all(),
      conflicts: this.status.conflicts(),
      pending: this.status.pending(),
    };
  }

  // ---- lifecycle ----

  /** First full resync (list, diff, apply), then the monitor and the periodic resync. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`route table: start() when ${this.state}`);
    this.state = 'starting';
    for (let attempt = 1; ; attempt++) {
      if (this.isStopped()) throw new RouteTableStoppedError();
      try {
        await this.exclusivePass({ full: true });
        break;
      } catch (e) {
        if (this.isStopped()) throw new RouteTableStoppedError();
        if (attempt >= this.timing.startAttempts) {
          this.state = 'new';
          throw e;
        }
        this.log.warn({ err: String(e), attempt }, 'first route resync failed; retrying');
        await new Promise((r) => setTimeout(r, this.backoffMs(attempt)));
      }
    }
    if (this.isStopped()) throw new RouteTableStoppedError();
    this.state = 'running';
    this.watch = this.kernel.watchRoutes({
      onLine: (line) => this.onMonitorLine(line),
      // Events may have been missed before the watch (re)started.
      onStart: () => this.requestResync(this.timing.resyncDelayMs),
      onExit: (reason, restartInMs) =>
        this.log.warn({ reason, restartInMs }, 'route monitor died; restarting'),
    });
    this.resyncTimer = setInterval(() => this.requestResync(0), this.resyncIntervalMs);
    this.resyncTimer.unref?.();
    this.scheduleNext();
  }

  /** Stops timers and the monitor; kernel routes stay (a restart picks them up unchanged). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.passTimer.cancel();
    clearInterval(this.resyncTimer);
    const watch = this.watch;
    this.watch = undefined;
    await Promise.all([watch?.stop(), this.passInFlight?.catch(() => {})]);
    this.flushes.stopped();
  }

  /**
   * Resolves after a pass that covers every change made before the call (its failures are per
   * key: see snapshot()). Concurrent callers share one pass, hence one `ip -batch`.
   */
  flush(): Promise<void> {
    if (this.state === 'stopped') return Promise.reject(new RouteTableStoppedError());
    if (this.flushes.allCovered()) return Promise.resolve();
    const covered = this.flushes.wait();
    this.requestPass(0);
    return covered;
  }

  // ---- scheduling ----

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private changed(keys: readonly RouteKey[]): void {
    if (keys.length === 0) return;
    this.flushes.changed();
    for (const key of keys) {
      this.dirty.add(key);
      this.status.expedite(key);
    }
    this.requestPass(this.timing.applyDelayMs);
  }

  private backoffMs(attempt: number): number {
    return backoffMs(this.timing.retryBaseMs, this.timing.retryMaxMs, attempt);
  }

  /** A pass within `delayMs` (an earlier request stands). Only while running. */
  private requestPass(delayMs: number): void {
    if (this.state === 'running') this.passTimer.request(delayMs);
  }

  private requestResync(delayMs: number): void {
    const now = Date.now();
    // An earlier request stands: the debounce bounds the delay, it does not extend it.
    this.resyncDueAt = this.fullResyncNeeded ? Math.min(this.resyncDueAt, now + delayMs) : now + delayMs;
    this.fullResyncNeeded = true;
    this.requestPass(this.resyncAt() - now);
  }

  /** Runs a pass now unless one is in flight (then one more follows it). */
  private kick(): void {
    if (this.passInFlight) {
      this.passAgain = true;
      return;
    }
    // A failed list is logged and rescheduled by pass() itself.
    this.exclusivePass({ full: false }).catch(() => {});
  }

  private async exclusivePass(opts: { full: boolean }): Promise<void> {
    while (this.passInFlight) await this.passInFlight.catch(() => {});
    const pass = this.pass(opts.full);
    this.passInFlight = pass;
    try {
      await pass;
    } finally {
      this.passInFlight = undefined;
      this.processEvents();
      this.scheduleNext();
    }
  }

  /** After a pass: one more if asked for or if flushes wait, then the earliest retry. */
  private scheduleNext(): void {
    if (this.state !== 'running') return;
    if (this.passAgain || this.flushes.waiting) {
      this.passAgain = false;
      this.requestPass(0);
      return;
    }
    const now = Date.now();
    let next = this.fullResyncNeeded ? Math.max(0, this.resyncAt() - now) : Number.POSITIVE_INFINITY;
    for (const key of this.dirty) {
      const at = this.status.retryAt(key);
      next = Math.min(next, at === 0 ? this.timing.applyDelayMs : Math.max(0, at - now));
      if (next === 0) break;
    }
    if (Number.isFinite(next)) this.requestPass(next);
  }

  // ---- a pass ----

  /** One pass; `forceFull` lists the kernel whatever the backoff (start). Rejects if the list fails. */
  private async pass(forceFull: boolean): Promise<void> {
    const seq = this.flushes.passStarts();
    const now = Date.now();
    const full = forceFull || (this.fullResyncNeeded && now >= this.resyncAt());
    if (full) {
      this.fullResyncNeeded = false;
      try {
        this.cache.replaceAll(await this.kernel.listRoutes());
      } catch (e) {
        this.fullResyncNeeded = true;
        this.passFailed();
        if (this.state === 'running') {
          const fields = { err: String(e), failedPasses: this.failedPasses };
          if (this.failedPasses === 1) this.log.warn(fields, 'route resync failed; retrying');
          else this.log.debug(fields, 'route resync failed again');
        }
        throw e;
      }
      for (const key of this.desired.keys()) this.dirty.add(key);
      for (const key of this.cache.keys()) this.dirty.add(key);
      for (const key of this.status.keys()) this.dirty.add(key);
    }
    const keys: RouteKey[] = [];
    for (const key of this.dirty) if (full || this.status.isDue(key, now)) keys.push(key);
    for (const key of keys) this.dirty.delete(key);

    const plan = planRouteOps(
      keys,
      (key) => this.desired.winner(key)?.route,
      (key) => this.cache.get(key),
      this.protocol,
    );
    for (const key of plan.converged) this.settled(key);
    let aborted = false;
    if (plan.ops.length > 0) {
      const started = performance.now();
      let results: RouteOpResult[];
      try {
        results = await this.kernel.applyRoutes(plan.ops.map((p) => p.op));
      } catch (e) {
        const error = asKernelError(e);
        results = plan.ops.map(() => ({ ok: false, failure: 'batch-aborted', error }));
      }
      aborted = this.record(plan.ops, results);
      const failed = results.filter((r) => !r.ok).length;
      this.log.debug(
        { ops: plan.ops.length, failed, full, ms: Math.round(performance.now() - started) },
        'routes applied',
      );
    }
    if (aborted) {
      // The kernel may hold anything now: list again, after a backoff.
      this.fullResyncNeeded = true;
      this.passFailed();
    } else {
      this.failedPasses = 0;
    }
    this.flushes.covered(seq);
  }

  /** When the wanted full resync may run: its debounce, and the backoff after failures. */
  private resyncAt(): number {
    return Math.max(this.resyncDueAt, this.resyncNotBefore);
  }

  /** Backs off the next full resync after a failed list or a batch cut short. */
  private passFailed(): void {
    this.failedPasses++;
    this.resyncNotBefore = Date.now() + this.backoffMs(this.failedPasses);
  }

  /** Applies results to the cache and key states; returns whether the batch was cut short. */
  private record(ops: readonly PlannedOp[], results: readonly RouteOpResult[]): boolean {
    const now = Date.now();
    const failedKeys = new Set<RouteKey>();
    let aborted = false;
    ops.forEach(({ key, op }, i) => {
      const result: RouteOpResult = results[i] ?? {
        ok: false,
        failure: 'error',
        error: asKernelError('no result'),
      };
      const { route } = op;
      if (result.ok) {
        if (isKernelRoute(route)) this.cache.deleted(route);
        else this.cache.written(route, this.protocol);
        return;
      }
      failedKeys.add(key);
      if (result.failure === 'batch-aborted') aborted = true;
      if (!isKernelRoute(route) && result.failure === 'exists') {
        const seen = this.status.conflict(key, route, 'a route of another protocol holds this destination');
        // First time: check with a resync that the holder is not tabby's own (a stale cache).
        if (seen === 'new') this.requestResync(this.timing.resyncDelayMs);
        else if (seen === 'confirmed') {
          this.log.warn(
            { route: describeRoute(route) },
            'route not installed: a foreign route holds the destination',
          );
        }
      } else if (!isKernelRoute(route) && result.failure === 'device-unavailable') {
        if (this.status.waitingForDevice(key, route, now)) {
          const fields = { route: describeRoute(route), err: result.error.detail };
          this.log.warn(fields, 'route still waiting for its device; retried on resyncs');
        }
      } else {
        const fields = { route: describeRoute(route), op: op.op, err: result.error.message };
        if (this.status.failed(key, now, result.error.message))
          this.log.warn(fields, 'route write failed; retrying');
        else this.log.debug(fields, 'route write failed again');
      }
      this.dirty.add(key);
    });
    for (const { key } of ops) if (!failedKeys.has(key)) this.settled(key);
    return aborted;
  }

  private settled(key: RouteKey): void {
    const { kind, reported } = this.status.settle(key);
    if (kind && reported) this.log.info({ key, was: kind }, 'route installed after all');
  }

  // ---- monitor events ----

  private onMonitorLine(line: string): void {
    this.eventLines.push(line);
    if (this.eventsScheduled) return;
    this.eventsScheduled = true;
    // Lines of one read arrive together; read them as a whole (ECMP events span lines).
    setImmediate(() => {
      this.eventsScheduled = false;
      this.processEvents();
    });
  }

  /** Reads queued events, unless a pass is in flight (its writes are not in the cache yet). */
  private processEvents(): void {
    if (this.passInFlight || this.eventLines.length === 0 || this.state !== 'running') return;
    const lines = this.eventLines;
    this.eventLines = [];
    const verdict = interpretRouteEvents(lines, {
      protocol: this.protocol,
      cached: (key) => this.cache.get(key),
      isConflicted: (key) => this.status.isConflicted(key),
      pendingOn: (dev) => this.status.pendingOn(dev),
    });
    if (verdict.unreadable) this.log.debug({ line: verdict.unreadable }, 'unreadable route event');
    if (verdict.resync) this.requestResync(this.timing.resyncDelayMs);
    if (verdict.retry.size > 0) {
      for (const key of verdict.retry) {
        this.dirty.add(key);
        this.status.expedite(key);
      }
      this.requestPass(this.timing.applyDelayMs);
    }
  }
}
