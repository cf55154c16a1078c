// The node's BGP speaker assembled: gobgpd (supervised child or sidecar container), the gRPC
// client, the datastore view of what BGP should look like, the reconciler that makes gobgpd
// match it, and the learner that feeds best paths into felix's route table.
//
//   datastore ──inputs──▶ computeDesiredBgp ──▶ reconciler ──gRPC──▶ gobgpd ◀──BGP──▶ peers
//                                                                  │ watch
//                                          felix route table ◀── learner
//
// Graceful restart: when the agent starts with learned routes in the kernel, when gobgpd
// restarted, and when BGP is restarted on purpose (global settings changed), the speaker is
// *restarting*: peers are added with localRestarting (GR R-bit; gobgpd then defers its UPDATEs
// until every neighbor's End-of-RIB, at most the deferral time, see gobgp-convert). It stops
// restarting once the learner has synced, so peers added later (a node joining) get our routes
// at once. Existing peers are not touched for that flag (the reconciler ignores it).
import { type IpFamily, parseIp } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import type { NodeInfo } from '../datastore/resources.js';
import { type BlockAffinity, NODE_BGP_ANNOTATIONS } from '../datastore/resources.js';
import type { Log } from '../felix/log.js';
import type { RouteTable } from '../felix/routes/route-table.js';
import type { Route } from '../felix/routes/types.js';
import { underlayAddress } from '../kernel/index.js';
import { computeDesiredBgp } from './desired.js';
import type { DesiredBgp } from './desired-types.js';
import type { GobgpApi } from './gobgp-api.js';
import { GobgpClient } from './gobgp-client.js';
import { GobgpdSupervisor, type GobgpdSupervisorOptions } from './gobgpd-process.js';
import { BgpInputsSource } from './inputs.js';
import type { BgpInputs } from './inputs-types.js';
import { BgpLearner } from './learner.js';
import { BgpReconciler } from './reconciler.js';

/** Node annotations the agent writes: the addresses other nodes mesh with. */
export const BGP_ADDRESS_ANNOTATION: Record<IpFamily, string> = {
  4: NODE_BGP_ANNOTATIONS.ipv4,
  6: NODE_BGP_ANNOTATIONS.ipv6,
};

/** Default least time between two re-publications of the address annotations. */
const REPUBLISH_INTERVAL_MS = 5_000;

export interface BgpSpeakerOptions {
  ds: Datastore;
  node: string;
  /** spawn: gobgpd is this agent's child (lab); sidecar: another container runs it. */
  mode: 'spawn' | 'sidecar';
  gobgpdPath: string;
  /** gobgpd's API (loopback host:port or unix:///path). */
  apiAddress: string;
  nodeIp?: string;
  nodeIpv6?: string;
  routes: RouteTable;
  log: Log;
  /** Least time between two re-publications of the address annotations (default 5 s). */
  republishIntervalMs?: number;
  // Test seams.
  /** gobgpd's API; default: a GobgpClient on apiAddress. */
  api?: GobgpApi;
  /** gobgpd's supervisor; default: a GobgpdSupervisor. */
  supervisor?: (opts: GobgpdSupervisorOptions) => Pick<GobgpdSupervisor, 'start' | 'stop'>;
  /** Options of the learner (tests shorten its timers). */
  learner?: { maxHoldMs?: number; settleMs?: number; verifyIntervalMs?: number };
}

type Supervisor = Pick<GobgpdSupervisor, 'start' | 'stop'>;

/** The addresses the speaker published in its Node's annotations. */
interface Published {
  4: string;
  6?: string;
}

/** Canonical, deduplicated addresses; what does not parse is left out (it is no next hop). */
function canonicalAddresses(texts: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const text of texts) {
    try {
      out.add(parseIp(text).address);
    } catch {
      // not an address
    }
  }
  return [...out];
}

/** Whether an annotation holds `want` (absent: must be absent). */
function annotationHolds(value: string | undefined, want: string | undefined): boolean {
  if (value === undefined || want === undefined) return value === want;
  try {
    return parseIp(value).address === parseIp(want).address;
  } catch {
    return false;
  }
}

export class BgpSpeaker {
  private readonly client: GobgpApi;
  private supervisor: Supervisor | undefined;
  /** The supervisor while its start() runs: stop() stops it too. */
  private startingSupervisor: Supervisor | undefined;
  private readonly reconciler: BgpReconciler;
  private readonly learner: BgpLearner;
  private readonly inputs: BgpInputsSource;
  private readonly log: Log;
  private readonly republishIntervalMs: number;
  private published: Published | undefined;
  /** This node's addresses, canonical: learned next hops pointing at them are ignored. */
  private ownAddresses: ReadonlySet<string> = new Set();
  /** Tell peers we are restarting (GR R-bit): routes survived a restart; cleared once the learner synced. */
  private restarting = false;
  private lastInputs: BgpInputs | undefined;
  private lastIssues = '';
  /** The last desired state given to the reconciler (kept when the inputs give none for a while). */
  private lastDesired: DesiredBgp | undefined;
  private lastPublishAt = 0;
  private republishTimer: NodeJS.Timeout | undefined;
  private republishing: Promise<void> | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly o: BgpSpeakerOptions) {
    this.log = o.log;
    this.republishIntervalMs = o.republishIntervalMs ?? REPUBLISH_INTERVAL_MS;
    this.client = o.api ?? new GobgpClient({ target: o.apiAddress, log: o.log.child({ part: 'gobgp' }) });
    this.reconciler = new BgpReconciler({
      api: this.client,
      log: o.log.child({ part: 'bgp-reconciler' }),
      // asn, router id or listen port changed: every session drops, but the routes learned are
      // still good, and the peers should keep ours.
      onBgpRestart: () => {
        this.learner.hold();
        this.setRestarting(true, 'BGP restarts (global settings changed)');
      },
    });
    this.learner = new BgpLearner({
      api: this.client,
      routes: o.routes,
      log: o.log.child({ part: 'bgp-learner' }),
      ownAddresses: () => this.ownAddresses,
      ...o.learner,
      // The watch (re)started: gobgpd may be a new process (a sidecar container restart the
      // supervisor cannot see), so the reconciler re-reads everything; with routes kept, the
      // peers re-added should keep ours.
      onReset: (kept) => {
        if (kept > 0) this.setRestarting(true, 'BGP table restarting with learned routes kept');
        this.reconciler.resync();
      },
      onSynced: () => this.setRestarting(false, 'BGP synced'),
    });
    this.inputs = new BgpInputsSource({
      ds: o.ds,
      node: o.node,
      log: o.log.child({ part: 'bgp-inputs' }),
      onChange: (inputs) => {
        this.lastInputs = inputs;
        this.recompute();
      },
    });
  }

  /**
   * Routes found in the kernel at start (learned before a restart): kept until the learner has
   * heard from its peers again, so a restart does not blackhole pods on other nodes.
   */
  seed(routes: Route[]): void {
    this.learner.seed(routes);
    if (routes.length > 0 && this.learner.holding) this.restarting = true;
  }

  /**
   * Publishes the node's BGP addresses, starts (or waits for) gobgpd, then follows the datastore.
   * Safe to call again after a failure (the agent retries with backoff): done steps are skipped.
   * Rejects once stop() was called.
   */
  async start(): Promise<void> {
    this.throwIfStopped();
    if (!this.published) await this.publishAddresses();
    this.throwIfStopped();
    if (!this.supervisor) {
      const supervisor = this.newSupervisor();
      this.startingSupervisor = supervisor;
      try {
        await supervisor.start();
      } catch (e) {
        await supervisor.stop().catch(() => {});
        throw e;
      } finally {
        this.startingSupervisor = undefined;
      }
      if (this.stopped) {
        await supervisor.stop().catch(() => {});
        this.throwIfStopped();
      }
      this.supervisor = supervisor;
    }
    this.learner.start();
    await this.inputs.start();
    this.throwIfStopped(); // inputs.start() resolves at stop() too
  }

  private throwIfStopped(): void {
    if (this.stopped) throw new Error('BGP speaker stopped');
  }

  private newSupervisor(): Supervisor {
    const opts: GobgpdSupervisorOptions = {
      mode: this.o.mode === 'spawn' ? 'spawn' : 'external',
      gobgpdPath: this.o.gobgpdPath,
      apiAddress: this.o.apiAddress,
      log: this.o.log.child({ part: 'gobgpd' }),
      onRestart: () => {
        this.log.warn('gobgpd restarted: re-applying the whole BGP configuration');
        this.setRestarting(true, 'gobgpd restarted');
        this.reconciler.resync();
      },
    };
    return this.o.supervisor ? this.o.supervisor(opts) : new GobgpdSupervisor(opts);
  }

  private async publishAddresses(): Promise<void> {
    const v4 = this.o.nodeIp ?? (await underlayAddress(4));
    const v6 = this.o.nodeIpv6 ?? (await underlayAddress(6));
    if (!v4) {
      throw new Error(
        'no IPv4 address for BGP: give --node-ip, or a default route whose device has a global IPv4 address',
      );
    }
    const published: Published = v6 ? { 4: v4, 6: v6 } : { 4: v4 };
    this.lastPublishAt = Date.now();
    const annotated = await this.o.ds.annotateNode(this.o.node, this.annotations(published));
    if (!annotated) throw new Error(`Node ${this.o.node} does not exist: cannot publish its BGP address`);
    this.published = published;
    this.ownAddresses = new Set(canonicalAddresses([v4, ...(v6 ? [v6] : [])]));
    this.log.info({ ipv4: v4, ipv6: v6, api: this.o.apiAddress, mode: this.o.mode }, 'BGP speaker starting');
  }

  private annotations(p: Published): Record<string, string | null> {
    return { [BGP_ADDRESS_ANNOTATION[4]]: p[4], [BGP_ADDRESS_ANNOTATION[6]]: p[6] ?? null };
  }

  /** A block was just claimed: export it now (`affinities`: as felix just listed them, not listed again). */
  refresh(affinities?: BlockAffinity[]): void {
    this.inputs.refresh(affinities);
  }

  status(): { reconciler: ReturnType<BgpReconciler['status']>; learner: ReturnType<BgpLearner['snapshot']> } {
    return { reconciler: this.reconciler.status(), learner: this.learner.snapshot() };
  }

  /**
   * Stops driving gobgpd; in spawn mode gobgpd gets SIGTERM (peers keep our routes under GR).
   * Prompt even while start() runs (a sidecar that does not answer yet, the datastore being
   * listed) or gobgpd hangs: the client is closed before the reconciler's pass is waited for.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.republishTimer);
    this.republishTimer = undefined;
    // Its start() rejects at once; start() then stops it again (a no-op).
    const starting = this.startingSupervisor?.stop().catch(() => {});
    await this.inputs.stop();
    this.learner.stop();
    // No pass after this one; closing the client cancels its calls in flight, so a hung gobgpd
    // does not hold stop() for a call deadline per remaining call.
    const reconciling = this.reconciler.stop();
    this.client.close();
    await reconciling;
    await starting;
    await this.supervisor?.stop();
    await this.republishing;
  }

  /**
   * Restarting is set only while the learner holds, so that its sync clears it: a flag left on
   * would make every peer added later (a node joining) wait out the GR deferral for our routes.
   */
  private setRestarting(on: boolean, why: string): void {
    if (this.restarting === on || this.stopped || (on && !this.learner.holding)) return;
    this.restarting = on;
    this.log.info(
      { restarting: on },
      on
        ? `${why}: peers are added as to a restarting speaker (GR)`
        : `${why}: peers added from now on get our routes at once (no GR restarting flag)`,
    );
    this.recompute();
  }

  private recompute(): void {
    if (!this.lastInputs || this.stopped) return;
    this.checkAnnotations();
    const { desired, issues } = computeDesiredBgp({ ...this.lastInputs, localRestarting: this.restarting });
    const text = issues.map((i) => `${i.source}: ${i.message}`).join('; ');
    const changed = text !== this.lastIssues;
    this.lastIssues = text;
    if (!desired && this.lastDesired) {
      // Never BGP off for a moment's gap (own Node re-created, an annotation being edited):
      // gobgpd keeps what it has until the inputs are usable again.
      if (changed)
        this.log.warn(
          { issues },
          'BGP configuration unusable for now: keeping the last good one (gobgpd is left as it is)',
        );
      return;
    }
    if (changed && issues.length > 0)
      this.log.warn({ issues }, 'BGP configuration has problems (those parts are skipped)');
    if (desired) {
      desired.ownAddresses = canonicalAddresses([
        ...desired.ownAddresses,
        ...(this.published ? [this.published[4], this.published[6] ?? ''] : []),
      ]);
      this.ownAddresses = new Set(desired.ownAddresses);
      this.lastDesired = desired;
    }
    this.reconciler.setDesired(desired);
  }

  // ---- the address annotations ----

  /** Whether the own Node (in the last inputs) lacks the published annotations; undefined: no Node. */
  private annotationsMissing(): { self: NodeInfo; published: Published } | undefined {
    const published = this.published;
    const self = this.lastInputs?.nodes.find((n) => n.name === this.o.node);
    if (!published || !self) return undefined;
    const a = self.annotations;
    if (
      annotationHolds(a[BGP_ADDRESS_ANNOTATION[4]], published[4]) &&
      annotationHolds(a[BGP_ADDRESS_ANNOTATION[6]], published[6])
    )
      return undefined;
    return { self, published };
  }

  /**
   * The own Node re-created (no annotations) or its annotations edited: without them no other
   * node meshes with this one. Published again, at most once per republishIntervalMs.
   */
  private checkAnnotations(): void {
    if (this.stopped || this.republishing || this.republishTimer || !this.annotationsMissing()) return;
    const wait = this.lastPublishAt + this.republishIntervalMs - Date.now();
    if (wait > 0) {
      this.republishTimer = setTimeout(() => {
        this.republishTimer = undefined;
        this.republish();
      }, wait);
      this.republishTimer.unref?.();
      return;
    }
    this.republish();
  }

  private republish(): void {
    const missing = this.stopped ? undefined : this.annotationsMissing(); // the inputs may show them by now
    if (!missing) return;
    const { self, published } = missing;
    this.lastPublishAt = Date.now();
    this.log.warn(
      {
        node: this.o.node,
        have: {
          ipv4: self.annotations[BGP_ADDRESS_ANNOTATION[4]],
          ipv6: self.annotations[BGP_ADDRESS_ANNOTATION[6]],
        },
        want: { ipv4: published[4], ipv6: published[6] },
      },
      "own Node lacks this node's BGP address annotations (re-created or edited): publishing them again",
    );
    this.republishing = this.o.ds
      .annotateNode(this.o.node, this.annotations(published))
      .then(
        (ok) => {
          if (!ok)
            this.log.warn({ node: this.o.node }, 'own Node gone: BGP address annotations not published');
        },
        (e: unknown) =>
          this.log.warn(
            { node: this.o.node, err: String(e) },
            'publishing the BGP address annotations failed',
          ),
      )
      .finally(() => {
        this.republishing = undefined;
        // Checked again (after the interval): a failure is retried, a success shows in the inputs.
        this.checkAnnotations();
      });
  }
}
