// `ip [-n NS] -N monitor route`: a long-lived child that prints one text event per route change
// (iproute2 6.1 prints text even with -json). The monitor restarts with backoff when the child
// dies; stop() ends it for sure. The parsers below turn its lines back into KernelRoutes.
import type { IpFamily } from '../common/addr.js';
import { type StreamingChild, type StreamingExit, spawnStreaming } from './exec.js';
import { ipArgv } from './ip.js';
import {
  normalizeKernelRoute,
  parseKernelDst,
  parseProtocol,
  parseRouteType,
  parseScope,
  parseTable,
} from './route-json.js';
import type { KernelRoute, Nexthop } from './route-spec.js';

export interface RouteMonitorOptions {
  /** Named namespace (/run/netns); undefined: this process's own namespace. */
  netns?: string;
  /** Each line `ip monitor` prints; ECMP nexthops arrive as indented continuation lines. */
  onLine(line: string): void;
  /** A child is running: the first one and every restart (events may have been missed). */
  onStart?(pid: number): void;
  /** A child died unexpectedly; the next one starts after `restartInMs`. */
  onExit?(exit: StreamingExit & { restartInMs: number }): void;
  /** Restart delay: doubles from initialMs up to maxMs; resets after a child ran for stableMs. */
  backoff?: { initialMs: number; maxMs: number; stableMs: number };
}

const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5_000, stableMs: 30_000 };

export class RouteMonitor {
  private child: StreamingChild | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private delayMs: number;
  private startedAt = 0;
  private readonly backoff: { initialMs: number; maxMs: number; stableMs: number };

  constructor(private readonly opts: RouteMonitorOptions) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.delayMs = this.backoff.initialMs;
  }

  /** pid of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): this {
    if (this.stopped) throw new Error('RouteMonitor: start after stop');
    if (!this.child && !this.restartTimer) this.spawn();
    return this;
  }

  /** Stops restarting and kills the child (SIGTERM, then SIGKILL); resolves once it is gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    this.child = undefined;
    if (child) await child.kill();
  }

  private spawn(): void {
    const argv = ipArgv(this.opts.netns, ['-N', 'monitor', 'route']);
    this.startedAt = Date.now();
    const child = spawnStreaming(argv, {
      onStdoutLine: (line) => {
        if (!this.stopped && this.child === child) this.opts.onLine(line);
      },
      onSpawn: (pid) => {
        if (!this.stopped && this.child === child) this.opts.onStart?.(pid);
      },
      onExit: (exit) => this.exited(child, exit),
    });
    this.child = child;
  }

  private exited(child: StreamingChild, exit: StreamingExit): void {
    if (this.stopped || this.child !== child) return;
    this.child = undefined;
    if (Date.now() - this.startedAt >= this.backoff.stableMs) this.delayMs = this.backoff.initialMs;
    const restartInMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    this.opts.onExit?.({ ...exit, restartInMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.spawn();
    }, restartInMs);
  }
}

// ---- parsing monitor output (pure) ----

export interface RouteEvent {
  deleted: boolean;
  route: KernelRoute;
}

/** Groups monitor lines into events: a head line plus its indented `nexthop` lines. */
export function groupMonitorLines(lines: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const last = groups[groups.length - 1];
    if (/^\s/.test(line) && last) last.push(line);
    else groups.push([line]);
  }
  return groups;
}

/** Keywords that take a value in `ip route` output (`mtu lock 1400` takes two). */
const withValue = new Set([
  'via',
  'dev',
  'table',
  'proto',
  'scope',
  'metric',
  'src',
  'pref',
  'expires',
  'mtu',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'ssthresh',
  'realms',
  'realm',
  'hoplimit',
  'initcwnd',
  'initrwnd',
  'quickack',
  'features',
  'congctl',
  'rto_min',
  'fastopen_no_cookie',
  'tos',
  'dsfield',
  'nhid',
  'from',
  'weight',
  'error',
  'ttl-propagate',
]);

const familyOf = (address: string): IpFamily => (address.includes(':') ? 6 : 4);

/** Reads `key value` pairs (and bare flags) into a map; `via inet6 X` keeps the address. */
function readPairs(tokens: readonly string[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (let i = 0; i < tokens.length; i++) {
    const key = tokens[i] as string;
    if (!withValue.has(key)) {
      pairs.set(key, '');
      continue;
    }
    let value = tokens[++i] ?? '';
    if ((key === 'via' && (value === 'inet' || value === 'inet6')) || value === 'lock')
      value = tokens[++i] ?? '';
    if (!pairs.has(key)) pairs.set(key, value);
  }
  return pairs;
}

/** One event (a group from groupMonitorLines) as a KernelRoute; undefined if unreadable. */
export function parseRouteEvent(lines: readonly string[]): RouteEvent | undefined {
  const [head, ...rest] = lines;
  if (head === undefined) return undefined;
  const tokens = head.trim().split(/\s+/);
  let i = 0;
  const deleted = tokens[0] === 'Deleted';
  if (deleted) i++;
  let typeText: string | undefined;
  const maybeType = tokens[i] ?? '';
  if (maybeType !== 'default' && !maybeType.includes('.') && !maybeType.includes(':')) {
    typeText = maybeType;
    i++;
  }
  const type = parseRouteType(typeText);
  const dstText = tokens[i++];
  if (type === undefined || dstText === undefined) return undefined;
  const pairs = readPairs(tokens.slice(i));

  const nexthops: Nexthop[] = [];
  const via = pairs.get('via');
  if (via) nexthops.push(pairs.get('dev') ? { via, dev: pairs.get('dev') as string } : { via });
  for (const line of rest) {
    const nh = line.trim().split(/\s+/);
    if (nh[0] !== 'nexthop') continue;
    const nhPairs = readPairs(nh.slice(1));
    const nhVia = nhPairs.get('via');
    if (nhVia)
      nexthops.push(nhPairs.get('dev') ? { via: nhVia, dev: nhPairs.get('dev') as string } : { via: nhVia });
  }

  // "default" carries no family; the gateway does, and only IPv6 routes print `pref`.
  const family: IpFamily = dstText.includes(':')
    ? 6
    : dstText === 'default'
      ? nexthops[0]
        ? familyOf(nexthops[0].via)
        : pairs.has('pref')
          ? 6
          : 4
      : 4;
  const dst = parseKernelDst(family, dstText);
  const table = parseTable(pairs.get('table'));
  const protocol = parseProtocol(pairs.get('proto'));
  const metricText = pairs.get('metric');
  if (dst === undefined || table === undefined || !Number.isInteger(protocol)) return undefined;
  const route = normalizeKernelRoute({
    family,
    dst,
    type,
    dev: pairs.get('dev'),
    nexthops,
    scope: parseScope(pairs.get('scope')),
    table,
    protocol,
    metric: metricText === undefined ? undefined : Number(metricText),
  });
  return { deleted, route };
}
