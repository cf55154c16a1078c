// Per-key trouble and when to try again: failed writes (exponential backoff), routes waiting
// for their device (fast retries, then only on resyncs and device hints once the grace period
// is over) and conflicts with foreign routes (retried on resyncs only). Pure bookkeeping.
import { devicesOf } from './route-key.js';
import type { Route, RouteConflict, RouteKey } from './types.js';

export interface RetryPolicy {
  /** First retry after a failure or a missing device. */
  baseMs: number;
  /** Longest wait between retries of a failed write. */
  maxMs: number;
  /** Longest wait between retries of a route waiting for its device (within the grace period). */
  pendingMaxMs: number;
  /** After this long waiting for its device a route is reported (once) and retried on resyncs only. */
  graceMs: number;
}

type KeyState =
  | { kind: 'failed'; attempts: number; retryAt: number; error: string }
  | { kind: 'pending'; route: Route; since: number; attempts: number; retryAt: number; reported: boolean }
  | { kind: 'conflict'; route: Route; reason: string; confirmed: boolean; retryAt: number };

export type Settled = KeyState['kind'] | undefined;

/** Exponential backoff: `base` before the first retry, doubling per attempt, at most `max`. */
export const backoffMs = (base: number, max: number, attempt: number): number =>
  Math.min(max, base * 2 ** Math.min(attempt - 1, 30));

export class KeyStatus {
  private readonly states = new Map<RouteKey, KeyState>();
  /** Pending keys by the devices their routes name (kept in step with `states`). */
  private readonly pendingByDevice = new Map<string, Set<RouteKey>>();

  constructor(private readonly policy: RetryPolicy) {}

  /** Whether `key` may be tried now (a full resync tries every key regardless). */
  isDue(key: RouteKey, now: number): boolean {
    const s = this.states.get(key);
    return !s || now >= s.retryAt;
  }

  /** The desired route changed: try it at once. */
  expedite(key: RouteKey): void {
    const s = this.states.get(key);
    if (s) s.retryAt = 0;
  }

  /** The key is as wanted (or nothing is wanted): forget its trouble; returns what it was. */
  settle(key: RouteKey): { kind: Settled; reported: boolean } {
    const s = this.states.get(key);
    this.put(key, undefined);
    const reported = s?.kind === 'pending' ? s.reported : s?.kind === 'conflict' ? s.confirmed : false;
    return { kind: s?.kind, reported };
  }

  /** A write failed; returns whether this is the key's first failure in a row. */
  failed(key: RouteKey, now: number, error: string): boolean {
    const s = this.states.get(key);
    const attempts = s?.kind === 'failed' ? s.attempts + 1 : 1;
    const retryAt = now + backoffMs(this.policy.baseMs, this.policy.maxMs, attempts);
    this.put(key, { kind: 'failed', attempts, retryAt, error });
    return attempts === 1;
  }

  /** The route's device is missing or down; returns true exactly once, when the grace period is over. */
  waitingForDevice(key: RouteKey, route: Route, now: number): boolean {
    const prev = this.states.get(key);
    const s =
      prev?.kind === 'pending'
        ? { ...prev, route }
        : { kind: 'pending' as const, route, since: now, attempts: 0, retryAt: 0, reported: false };
    s.attempts++;
    const overdue = now - s.since >= this.policy.graceMs;
    s.retryAt = overdue
      ? Number.POSITIVE_INFINITY
      : now + backoffMs(this.policy.baseMs, this.policy.pendingMaxMs, s.attempts);
    this.put(key, s);
    if (!overdue || s.reported) return false;
    s.reported = true;
    return true;
  }

  /**
   * An add found a foreign route in the slot. Returns 'new' the first time (the caller verifies
   * with a resync that the holder is not tabby's own), 'confirmed' the second time (report it
   * once), 'known' after that.
   */
  conflict(key: RouteKey, route: Route, reason: string): 'new' | 'confirmed' | 'known' {
    const prev = this.states.get(key);
    const retryAt = Number.POSITIVE_INFINITY;
    if (prev?.kind !== 'conflict') {
      this.put(key, { kind: 'conflict', route, reason, confirmed: false, retryAt });
      return 'new';
    }
    prev.route = route;
    prev.reason = reason;
    prev.retryAt = retryAt;
    if (prev.confirmed) return 'known';
    prev.confirmed = true;
    return 'confirmed';
  }

  /** What is wrong with `key`, if anything: 'pending', 'conflict' or 'failed' (a write failed). */
  trouble(key: RouteKey): KeyState['kind'] | undefined {
    return this.states.get(key)?.kind;
  }

  isConflicted(key: RouteKey): boolean {
    return this.states.get(key)?.kind === 'conflict';
  }

  /** Keys of routes waiting for device `dev`. */
  pendingOn(dev: string): RouteKey[] {
    const keys = this.pendingByDevice.get(dev);
    return keys ? [...keys] : [];
  }

  retryAt(key: RouteKey): number {
    return this.states.get(key)?.retryAt ?? 0;
  }

  keys(): IterableIterator<RouteKey> {
    return this.states.keys();
  }

  conflicts(): RouteConflict[] {
    const out: RouteConflict[] = [];
    for (const s of this.states.values())
      if (s.kind === 'conflict') out.push({ route: s.route, reason: s.reason });
    return out;
  }

  pending(): Route[] {
    const out: Route[] = [];
    for (const s of this.states.values()) if (s.kind === 'pending') out.push(s.route);
    return out;
  }

  /** Sets (or with undefined, forgets) `key`'s state, keeping the device index in step. */
  private put(key: RouteKey, next: KeyState | undefined): void {
    const prev = this.states.get(key);
    if (prev?.kind === 'pending') {
      for (const dev of devicesOf(prev.route)) {
        const keys = this.pendingByDevice.get(dev);
        keys?.delete(key);
        if (keys?.size === 0) this.pendingByDevice.delete(dev);
      }
    }
    if (next === undefined) {
      this.states.delete(key);
      return;
    }
    this.states.set(key, next);
    if (next.kind === 'pending') {
      for (const dev of devicesOf(next.route)) {
        const keys = this.pendingByDevice.get(dev);
        if (keys) keys.add(key);
        else this.pendingByDevice.set(dev, new Set([key]));
      }
    }
  }
}
