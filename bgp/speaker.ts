// The node's BGP speaker assembled: gobgpd (supervised child or sidecar container), the gRPC
// client, the datastore view of what BGP should look like, the reconciler that makes gobgpd
// match it, and the learner that feeds best paths into felix's route table.
//
//   datastore ──inputs──▶ computeDesiredBgp ──▶ reconciler ──gRPC──▶ gobgpd ◀──BGP──▶ peers
//                                                                  │ watch
//                                          felix route table ◀── learner
import type { IpFamily } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import type { Log } from '../felix/log.js';
import type { RouteTable } from '../felix/routes/route-table.js';
import type { Route } from '../felix/routes/types.js';
import { underlayAddress } from '../kernel/index.js';
import { computeDesiredBgp } from './desired.js';
import { GobgpClient } from './gobgp-client.js';
import { GobgpdSupervisor } from './gobgpd-process.js';
import { BgpInputsSource } from './inputs.js';
import type { BgpInputs } from './inputs-types.js';
import { BgpLearner } from './learner.js';
import { BgpReconciler } from './reconciler.js';

/** Node annotations the agent writes: the addresses other nodes mesh with. */
export const BGP_ADDRESS_ANNOTATION: Record<IpFamily, string> = {
  4: 'tabby.dev/bgp-ipv4',
  6: 'tabby.dev/bgp-ipv6',
};

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
}

export class BgpSpeaker {
  private readonly client: GobgpClient;
  private supervisor: GobgpdSupervisor | undefined;
  private readonly reconciler: BgpReconciler;
  private readonly learner: BgpLearner;
  private readonly inputs: BgpInputsSource;
  private readonly log: Log;
  private addresses: string[] = [];
  /** Tell peers we are restarting (GR R-bit): set when routes survived a restart of ours. */
  private restarting = false;
  private lastInputs: BgpInputs | undefined;
  private lastIssues = '';

  constructor(private readonly o: BgpSpeakerOptions) {
    this.log = o.log;
    this.client = new GobgpClient({ target: o.apiAddress, log: o.log.child({ part: 'gobgp' }) });
    this.reconciler = new BgpReconciler({ api: this.client, log: o.log.child({ part: 'bgp-reconciler' }) });
    this.learner = new BgpLearner({
      api: this.client,
      routes: o.routes,
      log: o.log.child({ part: 'bgp-learner' }),
      ownAddresses: () => new Set(this.addresses),
      // The watch (re)started: gobgpd may be a new process (a sidecar container restart the
      // supervisor cannot see), so the reconciler re-reads everything.
      onReset: () => this.reconciler.resync(),
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
    if (routes.length > 0) this.restarting = true;
    this.learner.seed(routes);
  }

  /**
   * Publishes the node's BGP addresses, starts (or waits for) gobgpd, then follows the datastore.
   * Safe to call again after a failure (the agent retries with backoff): done steps are skipped.
   */
  async start(): Promise<void> {
    if (this.addresses.length === 0) await this.publishAddresses();
    if (!this.supervisor) {
      const supervisor = this.newSupervisor();
      try {
        await supervisor.start();
      } catch (e) {
        await supervisor.stop().catch(() => {});
        throw e;
      }
      this.supervisor = supervisor;
    }
    this.learner.start();
    await this.inputs.start();
  }

  private newSupervisor(): GobgpdSupervisor {
    return new GobgpdSupervisor({
      mode: this.o.mode === 'spawn' ? 'spawn' : 'external',
      gobgpdPath: this.o.gobgpdPath,
      apiAddress: this.o.apiAddress,
      log: this.o.log.child({ part: 'gobgpd' }),
      onRestart: () => {
        this.log.warn('gobgpd restarted: re-applying the whole BGP configuration');
        this.restarting = true;
        this.recompute();
        this.reconciler.resync();
      },
    });
  }

  private async publishAddresses(): Promise<void> {
    const v4 = this.o.nodeIp ?? (await underlayAddress(4));
    const v6 = this.o.nodeIpv6 ?? (await underlayAddress(6));
    if (!v4) {
      throw new Error(
        'no IPv4 address for BGP: give --node-ip, or a default route whose device has a global IPv4 address',
      );
    }
    const annotated = await this.o.ds.annotateNode(this.o.node, {
      [BGP_ADDRESS_ANNOTATION[4]]: v4,
      [BGP_ADDRESS_ANNOTATION[6]]: v6 ?? null,
    });
    if (!annotated) throw new Error(`Node ${this.o.node} does not exist: cannot publish its BGP address`);
    this.addresses = v6 ? [v4, v6] : [v4];
    this.log.info({ ipv4: v4, ipv6: v6, api: this.o.apiAddress, mode: this.o.mode }, 'BGP speaker starting');
  }

  /** Re-read the datastore now (a block was just claimed: export it without waiting). */
  refresh(): void {
    this.inputs.refresh();
  }

  status(): { reconciler: ReturnType<BgpReconciler['status']>; learner: ReturnType<BgpLearner['snapshot']> } {
    return { reconciler: this.reconciler.status(), learner: this.learner.snapshot() };
  }

  /** Stops driving gobgpd; in spawn mode gobgpd gets SIGTERM (peers keep our routes under GR). */
  async stop(): Promise<void> {
    await this.inputs.stop();
    this.learner.stop();
    await this.reconciler.stop();
    this.client.close();
    await this.supervisor?.stop();
  }

  private recompute(): void {
    if (!this.lastInputs) return;
    const { desired, issues } = computeDesiredBgp({ ...this.lastInputs, localRestarting: this.restarting });
    const text = issues.map((i) => `${i.source}: ${i.message}`).join('; ');
    if (text !== this.lastIssues) {
      this.lastIssues = text;
      if (issues.length > 0)
        this.log.warn({ issues }, 'BGP configuration has problems (those parts are skipped)');
    }
    if (desired) desired.ownAddresses = [...new Set([...desired.ownAddresses, ...this.addresses])];
    this.reconciler.setDesired(desired);
  }
}
