// The node agent assembled: kernel state adopted, the route table reconciling, the CNI socket
// and the health endpoints serving. Start order avoids flapping: the desired FIB (pods read
// back from the kernel, blocks from the datastore) is complete before the route table's first
// reconciliation, and CNI requests are taken only after that.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Datastore } from '../datastore/datastore.js';
import { Ipam } from '../ipam/ipam.js';
import { underlayMtu, writeSysctls } from '../kernel/index.js';
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
      blocks: new AffineBlocks(deps.ds, config.nodeName, (blocks) =>
        routes.setRoutes('blocks', blackholeRoutes(blocks)),
      ),
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

    this.step('first route reconciliation');
    await ctx.routes.start();

    this.step('opening the CNI socket');
    await this.server.start();
    this.resyncTimer = setInterval(() => {
      ctx.blocks.refresh().catch((e: unknown) => log.warn({ err: String(e) }, 'affine block refresh failed'));
    }, config.resyncIntervalMs);
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
    await this.starting?.catch(() => {}); // start gives up at its next step
    clearInterval(this.resyncTimer);
    await this.server.stop();
    this.ctx.annotator.stop();
    await this.ctx.routes.stop();
    await this.health.stop();
    this.deps.log.info('tabby agent stopped');
  }

  /** Runs `fn` until it succeeds (the datastore may be unreachable at start), backing off to 5 s. */
  private async untilDone(fn: () => Promise<unknown>, what: string): Promise<void> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      if (this.state === 'stopping') throw new Error(`stopped while ${what}`);
      try {
        await fn();
        return;
      } catch (e) {
        this.deps.log.warn({ err: String(e), retryInMs: delay }, `${what} failed`);
        await sleep(delay);
      }
    }
  }
}
