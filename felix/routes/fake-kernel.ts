// An in-memory kernel FIB for unit tests: routes of every protocol, links, kernel-like add /
// replace / delete semantics, `ip monitor`-style event lines, and one-shot failure injection.
import type { KernelErrno } from '../../kernel/errors.js';
import { KernelError } from '../../kernel/errors.js';
import type { RouteOp, RouteOpResult } from '../../kernel/route-batch.js';
import {
  defaultMetric,
  type KernelRoute,
  MAIN_TABLE,
  type Nexthop,
  type RouteSpec,
} from '../../kernel/route-spec.js';
import type { KernelPort, RouteWatch, RouteWatchHandlers } from './kernel-port.js';
import { devicesOf } from './route-key.js';

export type FakeFailure =
  /** The next list rejects. */
  | { kind: 'list' }
  /** The next batch rejects as a whole (the process could not run); nothing is applied. */
  | { kind: 'batch' }
  /** The next batch dies at its `atOp`-th op (0-based): earlier ops applied, the rest unknown. */
  | { kind: 'abort'; atOp: number }
  /** The next op on `dst` (any op if absent) fails with errno. */
  | { kind: 'op'; dst?: string; errno: KernelErrno };

const STATIC_PROTOCOL = 4;

export class FakeKernel implements KernelPort {
  /** Every route, any protocol. */
  routes: KernelRoute[] = [];
  readonly links = new Set<string>();
  /** Every batch applyRoutes received. */
  readonly batches: RouteOp[][] = [];
  lists = 0;
  /** Delivery delay of event lines (ms); 0: the next macrotask. */
  eventDelayMs = 0;
  /** How long a batch takes after it changed the routes: events may arrive before its result. */
  applyLatencyMs = 0;
  private failures: FakeFailure[] = [];
  private readonly watchers = new Set<RouteWatchHandlers>();

  constructor(
    readonly protocol: number,
    /** Device a gateway without one resolves to (the kernel picks the connected route's). */
    readonly uplink = 'eth0',
  ) {
    this.links.add(uplink);
  }

  // ---- KernelPort ----

  async listRoutes(): Promise<KernelRoute[]> {
    this.lists++;
    if (this.takeFailure((f) => f.kind === 'list'))
      throw new KernelError('ip route show', 'EUNKNOWN', 'injected');
    return this.routes.filter((r) => r.protocol === this.protocol).map((r) => structuredClone(r));
  }

  async applyRoutes(ops: readonly RouteOp[]): Promise<RouteOpResult[]> {
    this.batches.push([...ops]);
    if (this.takeFailure((f) => f.kind === 'batch'))
      throw new KernelError('ip -batch', 'EUNKNOWN', 'injected');
    const abort = this.takeFailure((f) => f.kind === 'abort');
    const abortAt = abort?.kind === 'abort' ? abort.atOp : Number.POSITIVE_INFINITY;
    const results = ops.map((op, i): RouteOpResult => {
      if (i >= abortAt) {
        return {
          ok: false,
          failure: 'batch-aborted',
          error: new KernelError('ip -batch', 'EUNKNOWN', 'injected abort'),
        };
      }
      const injected = this.takeFailure(
        (f) => f.kind === 'op' && (f.dst === undefined || f.dst === op.route.dst),
      );
      if (injected?.kind === 'op') {
        return {
          ok: false,
          failure: 'error',
          error: new KernelError(`route ${op.op}`, injected.errno, 'injected'),
        };
      }
      return this.applyOne(op);
    });
    if (this.applyLatencyMs > 0) await new Promise((r) => setTimeout(r, this.applyLatencyMs));
    return results;
  }

  watchRoutes(handlers: RouteWatchHandlers): RouteWatch {
    this.watchers.add(handlers);
    setImmediate(() => {
      if (this.watchers.has(handlers)) handlers.onStart();
    });
    return {
      stop: async () => {
        this.watchers.delete(handlers);
      },
    };
  }

  // ---- test controls ----

  failNext(failure: FakeFailure): void {
    this.failures.push(failure);
  }

  get watching(): number {
    return this.watchers.size;
  }

  /** Ops of every batch so far. */
  get opCount(): number {
    return this.batches.reduce((n, b) => n + b.length, 0);
  }

  tabbyRoutes(): KernelRoute[] {
    return this.routes.filter((r) => r.protocol === this.protocol);
  }

  /** A route someone else added (`ip route add ... proto static` by default). */
  addForeign(route: RouteSpec, protocol = STATIC_PROTOCOL): void {
    this.insert(this.kernelForm(route, protocol));
  }

  /** `ip route del` by hand of whatever is at dst (any protocol). */
  deleteByHand(dst: string, table = MAIN_TABLE): void {
    for (const r of this.routes.filter((x) => x.dst === dst && x.table === table)) this.drop(r);
  }

  /** The monitor child died; the watch restarts (onStart again). */
  restartWatch(): void {
    for (const h of this.watchers) {
      h.onExit?.('injected', 0);
      setImmediate(() => h.onStart());
    }
  }

  addLink(name: string): void {
    this.links.add(name);
    // IPv6 puts a link-local route on a link that comes up: the hint a pending route waits for.
    this.emit(false, {
      family: 6,
      dst: 'fe80::/64',
      type: 'unicast',
      dev: name,
      table: MAIN_TABLE,
      protocol: 2,
      metric: 256,
    });
  }

  /** The link goes away: its IPv4 routes vanish silently, its IPv6 routes with events. */
  removeLink(name: string): void {
    this.links.delete(name);
    for (const r of [...this.routes]) {
      if (!devicesOf(r).includes(name)) continue;
      if (r.family === 4) this.routes = this.routes.filter((x) => x !== r);
      else this.drop(r);
    }
  }

  // ---- kernel semantics ----

  private takeFailure(match: (f: FakeFailure) => boolean): FakeFailure | undefined {
    const i = this.failures.findIndex(match);
    return i < 0 ? undefined : this.failures.splice(i, 1)[0];
  }

  private kernelForm(route: RouteSpec | KernelRoute, protocol: number): KernelRoute {
    const r: KernelRoute = {
      ...structuredClone(route),
      table: route.table ?? MAIN_TABLE,
      protocol,
      metric: defaultMetric(route.family),
    };
    if (r.nexthops) r.nexthops = r.nexthops.map((n): Nexthop => ({ via: n.via, dev: n.dev ?? this.uplink }));
    return r;
  }

  private slot(table: number, dst: string, metric: number): KernelRoute | undefined {
    return this.routes.find((r) => r.table === table && r.dst === dst && r.metric === metric);
  }

  private applyOne(op: RouteOp): RouteOpResult {
    const { route } = op;
    const table = route.table ?? MAIN_TABLE;
    if (op.op === 'delete') {
      const metric = 'metric' in route ? route.metric : defaultMetric(route.family);
      const found = this.routes.find(
        (r) => r.table === table && r.dst === route.dst && r.metric === metric && r.protocol === op.protocol,
      );
      if (!found) return { ok: true, alreadyGone: true };
      this.drop(found);
      return { ok: true };
    }
    const missing = devicesOf(route).find((d) => !this.links.has(d));
    if (missing !== undefined) {
      const error = new KernelError(`route ${op.op}`, 'ENOENT', `Cannot find device "${missing}"`);
      return { ok: false, failure: 'device-unavailable', error };
    }
    const next = this.kernelForm(route, op.protocol);
    const existing = this.slot(table, route.dst, next.metric);
    if (existing && op.op === 'add') {
      return { ok: false, failure: 'exists', error: new KernelError('route add', 'EEXIST', 'File exists') };
    }
    if (existing) this.routes = this.routes.filter((r) => r !== existing);
    this.insert(next);
    return { ok: true };
  }

  private insert(route: KernelRoute): void {
    this.routes.push(route);
    this.emit(false, route);
  }

  private drop(route: KernelRoute): void {
    this.routes = this.routes.filter((r) => r !== route);
    this.emit(true, route);
  }

  private emit(deleted: boolean, route: KernelRoute): void {
    const lines = monitorLines(deleted, route);
    for (const h of this.watchers) {
      setTimeout(() => {
        if (this.watchers.has(h)) for (const l of lines) h.onLine(l);
      }, this.eventDelayMs);
    }
  }
}

/** A route change as `ip -N monitor route` prints it. */
export function monitorLines(deleted: boolean, r: KernelRoute): string[] {
  const head: string[] = [];
  if (deleted) head.push('Deleted');
  if (r.type === 'blackhole') head.push('6');
  const hostLen = r.family === 4 ? '/32' : '/128';
  head.push(r.dst.endsWith(hostLen) ? r.dst.slice(0, -hostLen.length) : r.dst);
  const nexthops = r.nexthops ?? [];
  if (nexthops.length === 1) {
    const [nh] = nexthops as [Nexthop];
    head.push('via', nh.via);
    if (nh.dev) head.push('dev', nh.dev);
  } else if (r.dev) {
    head.push('dev', r.dev);
  } else if (r.type === 'blackhole' && r.family === 6) {
    head.push('dev', 'lo');
  }
  if (r.table !== MAIN_TABLE) head.push('table', String(r.table));
  if (r.protocol !== 3) head.push('proto', String(r.protocol));
  if (r.scope === 'link') head.push('scope', '253');
  if (r.family === 6 || r.metric !== 0) head.push('metric', String(r.metric));
  if (r.family === 6) head.push('pref', 'medium');
  const lines = [`${head.join(' ')} `];
  if (nexthops.length > 1) {
    for (const nh of nexthops)
      lines.push(`\tnexthop via ${nh.via}${nh.dev ? ` dev ${nh.dev}` : ''} weight 1 `);
  }
  return lines;
}
