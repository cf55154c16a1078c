// Turns gobgpd's best paths into felix routes (source 'bgp'): one route per prefix, ECMP when
// the best set has several next hops. Each event replaces the prefix's whole next-hop set (notes
// §4); an empty set is a withdrawal.
//
// Restart safety. Routes found in the kernel at start (seed()), routes learned before a reset of
// the watch (gobgpd restarted or reconnected) and routes learned before hold() (BGP about to be
// restarted on purpose) stay installed while the learner is *holding*: learned routes are
// installed and updated, but nothing is removed except explicit withdrawals of prefixes learned
// since the reset. The learner is *synced* when gobgpd's table has come (the first `best` after
// the reset: the init dump) and every peer it has heard of since the reset is established (or
// administratively down, or shut down by its max-prefix limit), settleMs after the last of them
// came up, or maxHoldMs after the reset; then every installed route that was not learned goes.
// While the watch is down (before the first reset, or after a `down` until the next reset) it
// holds without limit: with nothing to go on, the routes installed are the best guess.
//
// A periodic verification (and one right after each sync) lists the best paths and fixes what
// differs from the learned table (a missed event), prefix by prefix.
import type { IpFamily } from '../common/addr.js';
import type { Log } from '../felix/log.js';
import type { RouteTable } from '../felix/routes/route-table.js';
import type { Route } from '../felix/routes/types.js';
import { canonicalRoute, MAIN_TABLE } from '../kernel/route-spec.js';
import type {
  AdminState,
  BestPaths,
  GobgpApi,
  SessionState,
  WatchHandle,
  WatchMessage,
} from './gobgp-api.js';
import { type SkipReason, sameNextHops, usableNextHops } from './learned-nexthops.js';

export interface BgpLearnerOptions {
  /** Only watch and listBestPaths are used. */
  api: Pick<GobgpApi, 'watch' | 'listBestPaths'>;
  routes: Pick<RouteTable, 'setRoutes' | 'upsert' | 'remove'>;
  log: Log;
  /** This node's addresses: learned next hops pointing at them are ignored. */
  ownAddresses: () => ReadonlySet<string>;
  /** Longest hold after a reset before routes not learned again are removed (default 120 s). */
  maxHoldMs?: number;
  /** How long after the last peer came up the learner waits before it syncs (default 1 s). */
  settleMs?: number;
  /** Period of the verification against listBestPaths (default 5 min: a 10k-route table costs ~0.5 s of CPU to list and compare). */
  verifyIntervalMs?: number;
  /** Called on each reset of the watch (gobgpd restarted or reconnected), with the routes kept. */
  onReset?: (kept: number) => void;
  /** Called on each holding → synced (the routes are gobgpd's again). */
  onSynced?: () => void;
}

export interface LearnedRoute {
  family: IpFamily;
  prefix: string;
  nextHops: string[];
}

export interface BgpLearnerSnapshot {
  state: 'holding' | 'synced';
  /** When that state was entered. */
  since: Date;
  /** Learned prefixes and their next hops (installed). */
  routes: LearnedRoute[];
  /** Holding: installed routes not learned (again) yet, removed at sync if still not learned. */
  kept: LearnedRoute[];
  /** Peers heard of since the last reset. */
  peers: { address: string; state: SessionState; adminState: AdminState }[];
  lastVerify?: { at: Date; fixed: number; error?: string };
}

interface PeerSeen {
  state: SessionState;
  adminState: AdminState;
  /** When it last became ready (established, or not admin-up); undefined: not ready. */
  readyAt: number | undefined;
}

const FAMILIES: readonly IpFamily[] = [4, 6];
const keyOf = (family: IpFamily, prefix: string): string => `${family}|${prefix}`;
const toRoute = (r: LearnedRoute): Route => ({
  family: r.family,
  dst: r.prefix,
  type: 'unicast',
  nexthops: r.nextHops.map((via) => ({ via })),
});
const copy = (r: LearnedRoute): LearnedRoute => ({ ...r, nextHops: [...r.nextHops] });

const SKIP_MESSAGES: Record<SkipReason, string> = {
  'default-route': 'learned default route ignored (tabby never installs a default route from BGP)',
  'own-next-hop': 'learned route ignored: its next hops are this node',
  'link-local-next-hop':
    'learned IPv6 route ignored: its only next hops are link-local, and a route via a link-local ' +
    'address needs the device it was learned on, which gobgpd does not report',
  'unusable-next-hop': 'learned route ignored: no next hop of its family',
};

export class BgpLearner {
  private readonly o: BgpLearnerOptions;
  private readonly maxHoldMs: number;
  private readonly settleMs: number;
  private readonly verifyIntervalMs: number;
  /** What BGP says, after filtering: every entry is installed. */
  private readonly learned = new Map<string, LearnedRoute>();
  /** What the route table has from us (learned, plus kept routes while holding). */
  private installed = new Map<string, LearnedRoute>();
  private readonly peers = new Map<string, PeerSeen>();
  private mode: 'holding' | 'synced' = 'holding';
  private since = Date.now();
  /** When the current hold ends at the latest; undefined: no reset yet (no limit). */
  private holdDeadline: number | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private verifyTimer: NodeJS.Timeout | undefined;
  private watchHandle: WatchHandle | undefined;
  private stopped = false;
  /** A reset came and no `down` since: gobgpd's table is being watched. */
  private connected = false;
  /** The first `best` since the reset (the init dump) came: the learned table is complete. */
  private dumpReceived = false;
  /** Bumped on each reset and on stop: a verification started before is dropped. */
  private generation = 0;
  /** Prefixes that got an event while a verification was listing (its view of them is old). */
  private touched: Set<string> | undefined;
  /** A verification was asked for while one ran (e.g. a sync during a periodic one). */
  private verifyAgain = false;
  private lastVerify: BgpLearnerSnapshot['lastVerify'];
  /** Skipped prefixes already logged at info (once each). */
  private readonly noted = new Set<string>();

  constructor(opts: BgpLearnerOptions) {
    this.o = opts;
    this.maxHoldMs = opts.maxHoldMs ?? 120_000;
    this.settleMs = opts.settleMs ?? 1_000;
    this.verifyIntervalMs = opts.verifyIntervalMs ?? 300_000;
  }

  /**
   * Routes found in the kernel at start (tabby's gateway routes from before a restart): they
   * stay installed until the learner is synced. Only while holding; non-gateway routes and other
   * tables are ignored (BGP installs neither).
   */
  seed(routes: readonly Route[]): void {
    if (this.mode !== 'holding') {
      this.o.log.warn({ routes: routes.length }, 'routes seeded after BGP synced: ignored');
      return;
    }
    for (const r of routes) {
      if (r.type !== 'unicast' || !r.nexthops?.length || (r.table ?? MAIN_TABLE) !== MAIN_TABLE) continue;
      let c: Route;
      try {
        c = canonicalRoute(r);
      } catch (e) {
        this.o.log.warn({ dst: r.dst, err: String(e) }, 'seeded route ignored');
        continue;
      }
      const key = keyOf(c.family, c.dst);
      if (this.learned.has(key)) continue;
      this.installed.set(key, {
        family: c.family,
        prefix: c.dst,
        nextHops: (c.nexthops ?? []).map((n) => n.via),
      });
    }
    this.o.routes.setRoutes('bgp', [...this.installed.values()].map(toRoute));
  }

  start(): void {
    if (this.watchHandle || this.stopped) return;
    this.watchHandle = this.o.api.watch((m) => this.onMessage(m));
    this.verifyTimer = setInterval(() => void this.verify(), this.verifyIntervalMs);
    this.verifyTimer.unref?.();
  }

  /** Stops watching; installed routes stay (the next start seeds them again). */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.watchHandle?.stop();
    this.watchHandle = undefined;
    clearInterval(this.verifyTimer);
    clearTimeout(this.holdTimer);
  }

  /**
   * Holding again, with every installed route kept as the seed (BGP is about to be restarted on
   * purpose: its sessions drop and the table empties, but the routes are still good). Syncs like
   * after a reset: when the peers are back, at the latest maxHoldMs from now.
   */
  hold(): void {
    if (this.stopped) return;
    this.generation++;
    this.learned.clear();
    this.peers.clear();
    this.mode = 'holding';
    this.since = Date.now();
    this.holdDeadline = this.connected ? this.since + this.maxHoldMs : undefined;
    this.o.log.info(
      { installed: this.installed.size, maxHoldMs: this.maxHoldMs },
      'BGP restarting: learned routes kept until the peers are back',
    );
    this.checkHold();
  }

  /** Holding (routes kept until synced), as opposed to synced. */
  get holding(): boolean {
    return this.mode === 'holding';
  }

  snapshot(): BgpLearnerSnapshot {
    const kept: LearnedRoute[] = [];
    for (const [key, r] of this.installed) if (!this.learned.has(key)) kept.push(copy(r));
    return {
      state: this.mode,
      since: new Date(this.since),
      routes: [...this.learned.values()].map(copy),
      kept,
      peers: [...this.peers].map(([address, p]) => ({ address, state: p.state, adminState: p.adminState })),
      lastVerify: this.lastVerify && { ...this.lastVerify },
    };
  }

  // ---- events ----

  private onMessage(m: WatchMessage): void {
    if (this.stopped) return;
    switch (m.kind) {
      case 'reset':
        this.onReset();
        return;
      case 'down':
        this.onDown();
        return;
      case 'best':
        this.onBest(m.paths);
        return;
      case 'peer':
        this.onPeer(m.address, m.state, m.adminState);
        return;
    }
  }

  private onReset(): void {
    this.connected = true;
    this.dumpReceived = false;
    this.generation++;
    this.learned.clear();
    this.peers.clear();
    this.mode = 'holding';
    this.since = Date.now();
    this.holdDeadline = this.since + this.maxHoldMs;
    this.o.log.info(
      { installed: this.installed.size, maxHoldMs: this.maxHoldMs },
      'BGP table restarting: learned routes kept until the peers are back',
    );
    this.o.onReset?.(this.installed.size);
    this.checkHold();
  }

  /** The watch ended: nothing is known until the next reset, so no hold may end meanwhile. */
  private onDown(): void {
    if (!this.connected) return;
    this.connected = false;
    this.generation++;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (this.mode === 'holding') {
      this.holdDeadline = undefined;
      this.o.log.warn(
        { installed: this.installed.size },
        'BGP watch down while holding: routes kept until gobgpd is back',
      );
    } else {
      this.o.log.info({ installed: this.installed.size }, 'BGP watch down: routes kept as they are');
    }
  }

  private onBest(paths: readonly BestPaths[]): void {
    if (!this.dumpReceived) {
      this.dumpReceived = true;
      if (this.mode === 'holding') this.checkHold();
    }
    if (paths.length === 0) return;
    const own = this.o.ownAddresses();
    for (const p of paths) {
      const key = keyOf(p.family, p.prefix);
      this.touched?.add(key);
      const { nextHops, skipped } = usableNextHops(p, own);
      if (skipped) this.noteSkip(key, p, skipped);
      this.apply(key, p.family, p.prefix, nextHops);
    }
  }

  private onPeer(address: string, state: SessionState, adminState: AdminState): void {
    const ready = state === 'established' || adminState !== 'up';
    const before = this.peers.get(address);
    const readyAt = ready ? (before?.readyAt ?? Date.now()) : undefined;
    this.peers.set(address, { state, adminState, readyAt });
    if (this.mode === 'holding') this.checkHold();
  }

  /** Sets (or, with no next hops, withdraws) one prefix's learned route. */
  private apply(key: string, family: IpFamily, prefix: string, nextHops: string[]): void {
    if (nextHops.length === 0) {
      // Holding: only what was learned since the reset may go; kept routes wait for the sync.
      if (!this.learned.delete(key)) return;
      if (this.installed.delete(key)) this.o.routes.remove('bgp', family, prefix);
      return;
    }
    const route: LearnedRoute = { family, prefix, nextHops };
    const current = this.installed.get(key);
    if (!current || !sameNextHops(current.nextHops, nextHops)) {
      try {
        this.o.routes.upsert('bgp', toRoute(route));
      } catch (e) {
        this.o.log.warn({ prefix, nextHops, err: String(e) }, 'learned route not installable: ignored');
        return;
      }
      this.installed.set(key, route);
    }
    this.learned.set(key, route);
  }

  private noteSkip(key: string, p: BestPaths, reason: SkipReason): void {
    const fields = { prefix: p.prefix, nextHops: p.nextHops, reason };
    const id = `${reason}|${key}`;
    if (reason === 'own-next-hop' || this.noted.has(id)) {
      this.o.log.debug(fields, SKIP_MESSAGES[reason]);
      return;
    }
    this.noted.add(id);
    if (reason === 'default-route') this.o.log.warn(fields, SKIP_MESSAGES[reason]);
    else this.o.log.info(fields, SKIP_MESSAGES[reason]);
  }

  // ---- holding and sync ----

  /** Syncs if the hold is over, else sets a timer for when it may be. */
  private checkHold(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (this.mode !== 'holding' || this.stopped || !this.connected || this.holdDeadline === undefined) return;
    const now = Date.now();
    if (now >= this.holdDeadline) {
      this.sync('max-hold');
      return;
    }
    let next = this.holdDeadline;
    // Peers being up says nothing before gobgpd's table came (the dump follows their INITs).
    const lastReady = this.dumpReceived ? this.lastPeerReady() : undefined;
    if (lastReady !== undefined) {
      const settled = lastReady + this.settleMs;
      if (now >= settled) {
        this.sync('peers');
        return;
      }
      next = Math.min(next, settled);
    }
    this.holdTimer = setTimeout(() => this.checkHold(), next - now);
    this.holdTimer.unref?.();
  }

  /** When the last peer became ready; undefined when one is not ready, or there are none. */
  private lastPeerReady(): number | undefined {
    let last: number | undefined;
    for (const p of this.peers.values()) {
      if (p.readyAt === undefined) return undefined;
      last = Math.max(last ?? 0, p.readyAt);
    }
    return last;
  }

  /** Holding → synced: installed becomes exactly the learned table. */
  private sync(why: 'peers' | 'max-hold'): void {
    let removed = 0;
    for (const key of this.installed.keys()) if (!this.learned.has(key)) removed++;
    this.o.routes.setRoutes('bgp', [...this.learned.values()].map(toRoute));
    this.installed = new Map(this.learned);
    this.mode = 'synced';
    this.since = Date.now();
    this.holdDeadline = undefined;
    const fields = { learned: this.learned.size, removed, peers: this.peers.size };
    if (why === 'peers') {
      this.o.log.info(fields, 'BGP synced: peers are back; routes not learned again removed');
    } else {
      const waitingFor = [...this.peers].filter(([, p]) => p.readyAt === undefined).map(([a]) => a);
      this.o.log.warn(
        { ...fields, waitingFor, tableReceived: this.dumpReceived, maxHoldMs: this.maxHoldMs },
        'BGP synced at the end of the hold: peers not all back; routes not learned again removed',
      );
    }
    try {
      this.o.onSynced?.();
    } catch (e) {
      this.o.log.error({ err: e }, 'BGP learner onSynced handler threw');
    }
    void this.verify();
  }

  // ---- verification ----

  /** Lists the best paths and fixes every prefix whose learned route differs. Never rejects. */
  private async verify(): Promise<void> {
    // None before gobgpd's first table (nothing to compare with); one at a time.
    if (this.stopped || !this.connected) return;
    if (this.touched) {
      this.verifyAgain = true;
      return;
    }
    const generation = this.generation;
    const touched = new Set<string>();
    this.touched = touched;
    try {
      const lists = await Promise.all(FAMILIES.map((f) => this.o.api.listBestPaths(f)));
      if (generation !== this.generation) return;
      const own = this.o.ownAddresses();
      const expected = new Map<string, LearnedRoute>();
      for (const list of lists) {
        for (const p of list) {
          const { nextHops } = usableNextHops(p, own);
          if (nextHops.length > 0)
            expected.set(keyOf(p.family, p.prefix), { family: p.family, prefix: p.prefix, nextHops });
        }
      }
      const fixes: LearnedRoute[] = [];
      for (const [key, want] of expected) {
        const have = this.learned.get(key);
        if (!touched.has(key) && !(have && sameNextHops(have.nextHops, want.nextHops))) fixes.push(want);
      }
      for (const [key, have] of this.learned) {
        if (!touched.has(key) && !expected.has(key)) fixes.push({ ...have, nextHops: [] });
      }
      for (const r of fixes) this.apply(keyOf(r.family, r.prefix), r.family, r.prefix, r.nextHops);
      this.lastVerify = { at: new Date(), fixed: fixes.length };
      if (fixes.length > 0) {
        this.o.log.warn(
          {
            fixed: fixes.length,
            examples: fixes.slice(0, 10).map((r) => `${r.prefix} via [${r.nextHops.join(' ')}]`),
          },
          "learned routes differed from gobgpd's best paths (missed events): fixed",
        );
      }
    } catch (e) {
      if (generation !== this.generation) return;
      const failedBefore = this.lastVerify?.error !== undefined;
      this.lastVerify = { at: new Date(), fixed: 0, error: String(e) };
      const message = 'verifying learned routes failed; retried at the next period';
      if (failedBefore) this.o.log.debug({ err: String(e) }, message);
      else this.o.log.warn({ err: String(e) }, message);
    } finally {
      if (this.touched === touched) this.touched = undefined;
      if (this.verifyAgain) {
        this.verifyAgain = false;
        void this.verify();
      }
    }
  }
}
