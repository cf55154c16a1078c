// The node agent assembled: kernel state adopted, the route table reconciling, the CNI socket
// and the health endpoints serving. Start order avoids flapping: the desired FIB (pods read
// back from the kernel, blocks from the datastore) is complete before the route table's first
// reconciliation, and CNI requests are taken only after that.
import { setTimeout as sleep } from 'node:timers/promises';
import { BgpSpeaker } from '../bgp/speaker.js';
import type { Datastore } from '../datastore/datastore.js';
import { Ipam } from '../ipam/ipam.js';
import { listRoutes, underlayMtu, writeSysctls } from '../kernel/index.js';
import { adoptWorkloads, reportAdoptionDrift } from './adopt.js';
import { AffineBlocks } from './affine-blocks.js';
import type { VerbContext } from './cni/context.js';
import { dispatch } from './cni/dispatch.js';
import { CniServer } from './cni-server.js';
import type { AgentConfig } from './config.js';
import { HealthServer } from './health.js';
import { KeyedLock } from './keyed-lock.js';
import type { Log } from './log.js';
import { PodAnnotator } from './pod-annotations.js';
import { blackholeRoutes, localRoutes } from './pod-routes.js';
import { RouteTable } from './routes/route-table.js';
import type { Route } from './routes/types.js';
import { WorkloadTable } from './workloads.js';

/** Without a configured MTU and without an underlay to copy it from. */
const FALLBACK_MTU = 1500;
/** Desired routes whose veth does not exist yet (the CNI path is creating it) wait this long quietly. */
const MISSING_DEVICE_GRACE_MS = 10_000;

export interface AgentDeps {
  ds: Datastore;
  log: Log;
}

export class Agent {
  private readonly ctx: VerbContext;
  private readonly server: CniServer;
  private readonly health: HealthServer;
  private state: 'starting' | 'ready' | 'stopping' = 'starting';
  private startingStep = 'starting';
  private resyncTimer: NodeJS.Timeout | undefined;
  private ipv6Forwarding: Promise<void> | undefined;
  private readonly bgp: BgpSpeaker | undefined;
  private bgpStarting: Promise<void> | undefined;
  /** Aborted by stop(): ends the retry waits of start steps at once. */
  private readonly stopSignal = new AbortController();
  healthPort = 0;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    const { log } = deps;
    const routes = new RouteTable({
      protocol: config.routeProtocol,
      resyncIntervalMs: config.resyncIntervalMs,
      missingDeviceGraceMs: MISSING_DEVICE_GRACE_MS,
      log: log.child({ part: 'routes' }),
    });
    this.ctx = {
      node: config.nodeName,
      interfacePrefix: config.interfacePrefix,
      mtu: config.mtu || FALLBACK_MTU,
      routeProtocol: config.routeProtocol,
      ipam: new Ipam(deps.ds),
      routes,
      workloads: new WorkloadTable(),
      blocks: new AffineBlocks(deps.ds, config.nodeName, (blocks, affinities) => {
        routes.setRoutes('blocks', blackholeRoutes(blocks));
        this.bgp?.refresh(affinities); // export a new block now, not at the next datastore event
      }),
      annotator: new PodAnnotator(deps.ds, log.child({ part: 'annotations' })),
      locks: new KeyedLock(),
      log: log.child({ part: 'cni' }),
      notReadyReason: () => this.notReadyReason(),
      ensureIpv6Forwarding: () => {
        this.ipv6Forwarding ??= writeSysctls({ 'net/ipv6/conf/all/forwarding': 1 }).then(
          () =>
            log.warn(
              'IPv6 forwarding turned on: the node now ignores router advertisements on interfaces with accept_ra=1 (set accept_ra=2 where the node needs them)',
            ),
          (e: unknown) => {
            this.ipv6Forwarding = undefined;
            throw e;
          },
        );
        return this.ipv6Forwarding;
      },
    };
    this.bgp =
      config.bgpMode === 'off'
        ? undefined
        : new BgpSpeaker({
            ds: deps.ds,
            node: config.nodeName,
            mode: config.bgpMode,
            gobgpdPath: config.gobgpdPath,
            apiAddress: config.gobgpApi,
            nodeIp: config.nodeIp,
            nodeIpv6: config.nodeIpv6,
            routes,
            log: log.child({ part: 'bgp' }),
          });
    this.server = new CniServer(
      config.socket,
      (req) => dispatch(this.ctx, req),
      log.child({ part: 'cni-server' }),
    );
    this.health = new HealthServer({
      notLiveReason: () => undefined,
      notReadyReason: () => this.notReadyReason(),
    });
  }

  notReadyReason(): string | undefined {
    return this.state === 'ready' ? undefined : this.state === 'stopping' ? 'stopping' : this.startingStep;
  }

  private starting: Promise<void> | undefined;

  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  /** Throws when stop() was called meanwhile (start gives up between steps). */
  private step(name: string): void {
    if (this.state === 'stopping') throw new Error(`stopped while starting (${this.startingStep})`);
    this.startingStep = name;
  }

  private async run(): Promise<void> {
    const { config, ctx } = this;
    const log = this.deps.log;
    this.healthPort = await this.health.start(config.healthAddress, config.healthPort);
    log.info(
      { node: config.nodeName, health: `${config.healthAddress}:${this.healthPort}` },
      'tabby agent starting',
    );

    this.step('enabling forwarding');
    await writeSysctls({ 'net/ipv4/ip_forward': 1 });
    if (!config.mtu) ctx.mtu = (await underlayMtu()) ?? FALLBACK_MTU;

    this.step('adopting pods wired before this start');
    for (const w of await adoptWorkloads(config.interfacePrefix, log)) ctx.workloads.set(w);
    ctx.routes.setRoutes('local', localRoutes(ctx.workloads.all()));

    this.step("reading the node's blocks from the datastore");
    await this.untilDone(() => ctx.blocks.refresh(), 'reading affine blocks');
    if (ctx.workloads.size > 0) {
      const index = await this.deps.ds.ipamHandles.get(config.nodeName).catch(() => undefined);
      await reportAdoptionDrift(ctx.workloads.all(), new Set(Object.keys(index?.spec.handles ?? {})), log);
    }

    if (this.bgp) {
      this.step('keeping routes learned over BGP before this start');
      const learned = await adoptLearnedRoutes(config.routeProtocol);
      this.bgp.seed(learned);
      if (learned.length > 0)
        log.info({ routes: learned.length }, 'kept learned routes until BGP has resynced');
    }

    this.step('first route reconciliation');
    await ctx.routes.start();

    this.step('opening the CNI socket');
    await this.server.start();
    this.resyncTimer = setInterval(() => {
      ctx.blocks.refresh().catch((e: unknown) => log.warn({ err: String(e) }, 'affine block refresh failed'));
    }, config.resyncIntervalMs);
    // BGP comes up in the background: pods on this node are served meanwhile, and a sidecar
    // that is slow to start only delays routes to and from other nodes.
    if (this.bgp) this.bgpStarting = this.startBgp(this.bgp);
    this.step('ready');
    this.state = 'ready';
    log.info(
      { pods: ctx.workloads.size, blocks: ctx.blocks.current(), mtu: ctx.mtu, socket: config.socket },
      'tabby agent ready',
    );
  }

  /** Stops serving; kernel state (veths, routes) stays, so pods keep their connectivity. */
  async stop(): Promise<void> {
    this.state = 'stopping';
    this.stopSignal.abort();
    await this.starting?.catch(() => {}); // start gives up at its next step
    clearInterval(this.resyncTimer);
    await this.server.stop();
    // The speaker first: its start() may be waiting for the datastore or the sidecar, and
    // rejects once it is stopped (waiting for it first could take a minute, or forever).
    await this.bgp?.stop();
    await this.bgpStarting;
    this.ctx.annotator.stop();
    await this.ctx.routes.stop();
    await this.health.stop();
    this.deps.log.info('tabby agent stopped');
  }

  private async startBgp(bgp: BgpSpeaker): Promise<void> {
    try {
      await this.untilDone(() => bgp.start(), 'starting the BGP speaker');
      this.deps.log.info('BGP speaker running');
    } catch (e) {
      if (this.state !== 'stopping') this.deps.log.error({ err: String(e) }, 'BGP speaker failed');
    }
  }

  /** Runs `fn` until it succeeds (the datastore may be unreachable at start), backing off to 5 s. */
  private async untilDone(fn: () => Promise<unknown>, what: string): Promise<void> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      if (this.state === 'stopping') throw new Error(`stopped while ${what}`);
      try {
        await fn();
        return;
      } catch (e) {
        if (this.stopSignal.signal.aborted) throw new Error(`stopped while ${what}`);
        this.deps.log.warn({ err: String(e), retryInMs: delay }, `${what} failed`);
        await sleep(delay, undefined, { signal: this.stopSignal.signal }).catch(() => {});
      }
    }
  }
}

/** tabby's gateway routes already in the kernel: what BGP had installed before this start. */
async function adoptLearnedRoutes(protocol: number): Promise<Route[]> {
  const routes = await listRoutes(undefined, { protocol });
  return routes
    .filter((r) => r.type === 'unicast' && (r.nexthops?.length ?? 0) > 0)
    .map((r) => ({ family: r.family, dst: r.dst, type: 'unicast', nexthops: r.nexthops, table: r.table }));
}
