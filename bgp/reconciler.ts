// Makes gobgpd match a DesiredBgp. Setters only record what is wanted; passes do all the I/O.
// Passes never overlap: a change during one schedules one more after it. A failed pass is
// retried with backoff, and a periodic pass repairs drift. Every pass reads gobgpd's state (a
// few small lists) and applies the difference in the order gobgpd needs (notes §5: policies are
// not applied retroactively, so routes and sessions come after the filters that govern them):
//
//   global → defined sets → policies → assignments → local paths → peers → (soft reset in) → garbage
//
// Policies and sets are named by content (`tabby-…-<hash>`), so a changed policy is a new one:
// it is added, assigned, and only then is the old one deleted (make-before-break). Only objects
// named `tabby-…` are ever deleted; peers and local paths are tabby's alone.
import { formatCidr, type IpFamily, parseCidr } from '../common/addr.js';
import type { Log } from '../felix/log.js';
import { EarliestTimer } from '../felix/routes/earliest-timer.js';
import { backoffMs } from '../felix/routes/key-status.js';
import type { DesiredBgp, DesiredPeer } from './desired-types.js';
import type {
  BgpGlobal,
  DefinedSet,
  GobgpApi,
  Policy,
  PolicyAssignment,
  PolicyDirection,
} from './gobgp-api.js';
import { PeerStep } from './reconcile-peers.js';

export interface BgpReconcilerTiming {
  /** Retry backoff of failed passes: first delay, cap. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Full pass period (drift repair). */
  periodicMs: number;
  /** How long a neighbor shut down by its max-prefix limit stays down before enablePeer. */
  prefixLimitHoldDownMs: number;
}

export interface BgpReconcilerOptions {
  api: GobgpApi;
  log: Log;
  timing?: Partial<BgpReconcilerTiming>;
  /**
   * Called right before a deliberate BGP restart (StopBgp + StartBgp: asn, router id or listen
   * port changed). Every session drops and gobgpd's table empties, but the routes learned are
   * still good: the speaker puts the learner into holding here. The peers of that pass are added
   * with graceful restart's localRestarting whatever the desired state says.
   */
  onBgpRestart?: () => void;
}

export interface BgpReconcilerStatus {
  /** false after setDesired(undefined): BGP off (nothing originated, no peers). */
  enabled: boolean;
  /** The last finished pass; undefined before the first. */
  lastPass?: { ok: boolean; at: Date; error?: string };
  /** Failed passes in a row. */
  failures: number;
  /** gobgpd's neighbors and originated routes after the last pass that got that far. */
  peers: number;
  paths: Record<IpFamily, number>;
  /** Policy names of the global assignments in place. */
  policies: Record<PolicyDirection, string[]>;
  /** Neighbors waiting out a max-prefix hold-down. */
  heldDown: { address: string; enableAt: Date }[];
}

/** Every this many paths steps, gobgpd's whole table is listed to find local paths (drift). */
const FULL_PATH_LIST_EVERY = 10;

const DEFAULT_TIMING: BgpReconcilerTiming = {
  retryBaseMs: 100,
  retryMaxMs: 5_000,
  periodicMs: 30_000,
  prefixLimitHoldDownMs: 5 * 60_000,
};

/** Prefix of every policy and defined set tabby creates (and the only ones it deletes). */
export const TABBY_OBJECT_PREFIX = 'tabby-';

const FAMILIES: readonly IpFamily[] = [4, 6];

const canonical = (prefix: string): string => {
  try {
    return formatCidr(parseCidr(prefix));
  } catch {
    return prefix; // gobgpd will say what is wrong with it
  }
};

const setKey = (s: Pick<DefinedSet, 'type' | 'name'>): string => `${s.type}|${s.name}`;

const sameAssignment = (a: PolicyAssignment, b: PolicyAssignment): boolean =>
  a.defaultAction === b.defaultAction &&
  a.policies.length === b.policies.length &&
  a.policies.every((p, i) => p === b.policies[i]);

/** asn, router id and listen port can only change by restarting BGP. */
function globalDiffers(want: BgpGlobal, have: BgpGlobal): boolean {
  return (
    want.asn !== have.asn ||
    want.routerId !== have.routerId ||
    (want.listenPort || 179) !== (have.listenPort || 179)
  );
}

/** The peer with graceful restart's localRestarting on (unchanged without graceful restart). */
const restartingPeer = (p: DesiredPeer): DesiredPeer =>
  p.gracefulRestart ? { ...p, gracefulRestart: { ...p.gracefulRestart, localRestarting: true } } : p;

/** Several failures of one pass, reported as one. */
class PassError extends Error {
  constructor(readonly errors: unknown[]) {
    super(
      errors.length === 1
        ? String(errors[0] instanceof Error ? errors[0].message : errors[0])
        : `${errors.length} operations failed, first: ${errors[0] instanceof Error ? errors[0].message : String(errors[0])}`,
    );
    this.name = 'PassError';
  }
}

export class BgpReconciler {
  private readonly api: GobgpApi;
  private readonly log: Log;
  private readonly timing: BgpReconcilerTiming;
  private readonly peerStep: PeerStep;
  private readonly onBgpRestart: (() => void) | undefined;
  private readonly timer = new EarliestTimer(() => this.kick());
  /** undefined before the first setDesired (no passes). */
  private desired: { bgp: DesiredBgp | undefined } | undefined;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private forgetRequested = false;
  /** The import assignment changed since the neighbors last got a soft reset in. */
  private softResetPending = false;
  private readonly state: BgpReconcilerStatus = {
    enabled: false,
    failures: 0,
    peers: 0,
    paths: { 4: 0, 6: 0 },
    policies: { import: [], export: [] },
    heldDown: [],
  };
  private lastError = '';

  constructor(opts: BgpReconcilerOptions) {
    this.api = opts.api;
    this.log = opts.log;
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.peerStep = new PeerStep(this.api, this.log, this.timing.prefixLimitHoldDownMs);
    this.onBgpRestart = opts.onBgpRestart;
  }

  /** What gobgpd should look like; undefined: BGP off (withdraw every route, delete every peer). */
  setDesired(d: DesiredBgp | undefined): void {
    this.desired = { bgp: d };
    this.request(0);
  }

  /** gobgpd restarted or the connection to it was re-established: re-read and re-apply now. */
  resync(): void {
    this.forgetRequested = true;
    this.request(0);
  }

  /** Stops passes (after the one in flight); gobgpd keeps its state. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer.cancel();
    await this.inFlight;
  }

  status(): BgpReconcilerStatus {
    return structuredClone({ ...this.state, heldDown: this.peerStep.heldDown() });
  }

  // ---- scheduling ----

  private request(delayMs: number): void {
    if (!this.stopped && this.desired) this.timer.request(delayMs);
  }

  private kick(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.runPass().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async runPass(): Promise<void> {
    let wakeInMs: number | undefined;
    try {
      wakeInMs = await this.pass(this.desired?.bgp);
      this.passed();
    } catch (e) {
      this.failed(e);
    }
    if (this.again) {
      this.again = false;
      this.request(0);
    } else if (this.state.failures > 0) {
      this.request(backoffMs(this.timing.retryBaseMs, this.timing.retryMaxMs, this.state.failures));
    } else {
      this.request(Math.min(this.timing.periodicMs, wakeInMs ?? Number.POSITIVE_INFINITY));
    }
  }

  private passed(): void {
    if (this.state.failures > 0) {
      this.log.info({ failures: this.state.failures }, 'BGP configuration applied after failures');
    }
    this.state.failures = 0;
    this.lastError = '';
    this.state.lastPass = { ok: true, at: new Date() };
  }

  private failed(e: unknown): void {
    const error = e instanceof Error ? e.message : String(e);
    this.state.failures++;
    this.state.lastPass = { ok: false, at: new Date(), error };
    const fields = {
      err: error,
      failures: this.state.failures,
      errors: e instanceof PassError && e.errors.length > 1 ? e.errors.map(String) : undefined,
    };
    // The same error again and again is logged once at warn; none at stop (calls are cancelled).
    if (this.stopped) this.log.debug(fields, 'applying the BGP configuration ended by stop');
    else if (error !== this.lastError)
      this.log.warn(fields, 'applying the BGP configuration failed; retrying');
    else this.log.debug(fields, 'applying the BGP configuration failed again');
    this.lastError = error;
  }

  // ---- a pass ----

  /** One pass; resolves to when a held-down neighbor is next due (ms), rejects on failure. */
  private async pass(desired: DesiredBgp | undefined): Promise<number | undefined> {
    this.state.enabled = desired !== undefined;
    if (this.forgetRequested) {
      this.forgetRequested = false;
      this.peerStep.forget();
      this.originated = undefined;
    }
    const running = await this.api.getGlobal();
    if (!desired) {
      if (running) await this.off();
      return undefined;
    }
    const started = await this.global(desired.global, running);
    const fresh = started !== false;
    // b, c: sets and policies never change in place (content-hashed names): added when missing.
    const sets = fresh ? [] : await this.api.listDefinedSets();
    const haveSets = new Set(sets.map(setKey));
    for (const set of desired.definedSets) {
      if (!haveSets.has(setKey(set))) await this.api.addDefinedSet(set);
    }
    const policies = fresh ? [] : await this.api.listPolicies();
    const havePolicies = new Set(policies.map((p) => p.name));
    for (const policy of desired.policies) {
      if (!havePolicies.has(policy.name)) await this.api.addPolicy(policy);
    }
    await this.assignments(desired, fresh);
    await this.paths(desired.paths, fresh);
    // After a deliberate restart, the neighbors come back as to a restarting speaker (GR R-bit).
    const peers = await this.peerStep.apply(
      started === 'restarted' ? desired.peers.map(restartingPeer) : desired.peers,
      fresh,
    );
    this.state.peers = peers.count;
    if (this.softResetPending) {
      // New import filters apply to what was received before only after a soft reset in.
      if (peers.kept > 0) await this.api.softResetPeer('all', 'in');
      this.softResetPending = false;
    }
    const errors = [...peers.errors, ...(await this.garbage(desired, sets, policies))];
    if (errors.length > 0) throw new PassError(errors);
    return peers.wakeInMs;
  }

  /**
   * a. Starts BGP, or restarts it when its settings changed; resolves to whether it started
   * ('started': it was not running; 'restarted': it was, with other settings) or not (false).
   */
  private async global(
    want: BgpGlobal,
    running: BgpGlobal | undefined,
  ): Promise<false | 'started' | 'restarted'> {
    if (running && !globalDiffers(want, running)) return false;
    if (running) {
      this.log.warn(
        { want, have: running },
        'BGP global settings changed: restarting BGP (sessions drop, everything is re-applied)',
      );
      try {
        this.onBgpRestart?.();
      } catch (e) {
        this.log.error({ err: e }, 'onBgpRestart handler threw');
      }
      await this.api.stopBgp();
    }
    await this.api.startBgp(want);
    this.log.info({ asn: want.asn, routerId: want.routerId }, 'BGP started');
    // Nothing of what was applied before is left in gobgpd.
    this.peerStep.forget();
    this.softResetPending = false;
    return running ? 'restarted' : 'started';
  }

  /** d. Each global assignment replaced (atomically) when it differs. */
  private async assignments(desired: DesiredBgp, fresh: boolean): Promise<void> {
    for (const want of [desired.importAssignment, desired.exportAssignment]) {
      const have = fresh ? undefined : await this.api.getPolicyAssignment(want.direction);
      if (have && sameAssignment(want, have)) continue;
      await this.api.setPolicyAssignment(want);
      if (want.direction === 'import' && !fresh) this.softResetPending = true;
      this.log.info(
        { direction: want.direction, policies: want.policies, defaultAction: want.defaultAction },
        'BGP policy assignment set',
      );
    }
    this.state.policies = {
      import: [...desired.importAssignment.policies],
      export: [...desired.exportAssignment.policies],
    };
  }

  /**
   * g. Deletes tabby's policies no longer desired (no longer assigned by now), then tabby's sets
   * no policy left names. Resolves to the failures (the pass goes on without them).
   */
  private async garbage(desired: DesiredBgp, sets: DefinedSet[], policies: Policy[]): Promise<unknown[]> {
    const keep = new Set(desired.policies.map((p) => p.name));
    for (const name of [...desired.importAssignment.policies, ...desired.exportAssignment.policies]) {
      keep.add(name);
    }
    const stale = policies.filter((p) => p.name.startsWith(TABBY_OBJECT_PREFIX) && !keep.has(p.name));
    const usedSets = new Set(desired.definedSets.map(setKey));
    for (const p of [...desired.policies, ...policies.filter((p) => !stale.includes(p))]) {
      for (const { conditions: c } of p.statements) {
        if (c.prefixSet) usedSets.add(setKey({ type: 'prefix', name: c.prefixSet }));
        if (c.neighborSet) usedSets.add(setKey({ type: 'neighbor', name: c.neighborSet }));
      }
    }
    const errors: unknown[] = [];
    for (const p of stale) {
      try {
        await this.api.deletePolicy(p.name);
        this.log.info({ policy: p.name }, 'old BGP policy deleted');
      } catch (e) {
        errors.push(e);
      }
    }
    for (const s of sets) {
      if (!s.name.startsWith(TABBY_OBJECT_PREFIX) || usedSets.has(setKey(s))) continue;
      try {
        await this.api.deleteDefinedSet(s.type, s.name);
        this.log.debug({ set: s.name }, 'old BGP defined set deleted');
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }

  /**
   * What this reconciler originated, as of its last successful paths step: later passes ask
   * gobgpd only about these and the wanted prefixes (ListPath of the whole RIB costs ~40 ms of
   * CPU per 1k routes on both sides). undefined: unknown, list everything. A full listing still
   * runs every FULL_PATH_LIST_EVERY passes, and after resync() or a gobgpd restart.
   */
  private originated: Record<IpFamily, Set<string>> | undefined;
  private pathPasses = 0;

  /** Originates the desired prefixes of each family and withdraws the others. */
  private async paths(want: Record<IpFamily, readonly string[]>, fresh: boolean): Promise<void> {
    const known = this.pathPasses++ % FULL_PATH_LIST_EVERY === 0 ? undefined : this.originated;
    this.originated = undefined;
    const originated: Record<IpFamily, Set<string>> = { 4: new Set(), 6: new Set() };
    for (const family of FAMILIES) {
      const wanted = new Set(want[family].map(canonical));
      const ask = known ? [...new Set([...wanted, ...known[family]])] : undefined;
      const have = new Set(
        fresh || ask?.length === 0
          ? []
          : (await this.api.listLocalPaths(family, ask)).map((p) => canonical(p.prefix)),
      );
      const add = [...wanted].filter((p) => !have.has(p));
      const del = [...have].filter((p) => !wanted.has(p));
      if (add.length > 0) {
        await this.api.addPaths(
          family,
          add.map((prefix) => ({ prefix })),
        );
        this.log.info({ family, count: add.length, prefixes: add.slice(0, 20) }, 'BGP routes originated');
      }
      // Never with an empty list: gobgpd reads "no path" as "every local path".
      if (del.length > 0) {
        await this.api.deletePaths(family, del);
        this.log.info({ family, count: del.length, prefixes: del.slice(0, 20) }, 'BGP routes withdrawn');
      }
      this.state.paths[family] = wanted.size;
      originated[family] = wanted;
    }
    this.originated = originated;
  }

  /** BGP off: withdraw every route, delete every peer; BGP itself keeps running. */
  private async off(): Promise<void> {
    await this.paths({ 4: [], 6: [] }, false);
    const peers = await this.peerStep.apply([], false);
    this.state.peers = peers.count;
    if (peers.errors.length > 0) throw new PassError(peers.errors);
  }
}
