// Routes in the kernel FIB, both families: the route model, its canonical form, `ip -json route`
// parsing, `ip -batch` rendering, and the two I/O calls (list by protocol, apply a batch).
// Everything except listRoutes/applyRouteBatch is pure.
import { AddressError, formatCidr, type IpFamily, parseCidr, parseIp } from '../common/addr.js';
import { errnoFromText, KernelError, toKernelError } from './errors.js';
import { ExecError, run } from './exec.js';
import { ipJson } from './ip.js';

export type RouteType = 'unicast' | 'blackhole';
export type RouteScope = 'link' | 'global';

export interface Nexthop {
  via: string;
  dev?: string;
}

/** A route as tabby wants it. */
export interface RouteSpec {
  family: IpFamily;
  /** Canonical CIDR; host routes as /32 or /128. */
  dst: string;
  type: RouteType;
  /** Device of a device route (`10.244.1.7/32 dev tbyab12`). */
  dev?: string;
  /** One entry: a plain `via`; several: ECMP. */
  nexthops?: readonly Nexthop[];
  scope?: RouteScope;
  /** Routing table; main (254) when absent. */
  table?: number;
}

/** Route types the kernel may report (tabby itself only writes unicast and blackhole). */
export type KernelRouteType =
  | RouteType
  | 'local'
  | 'broadcast'
  | 'anycast'
  | 'multicast'
  | 'unreachable'
  | 'prohibit'
  | 'throw'
  | 'nat'
  | 'xresolve';

/** A route as the kernel reports it, in canonical form (see canonicalRoute). */
export interface KernelRoute {
  family: IpFamily;
  dst: string;
  type: KernelRouteType;
  dev?: string;
  nexthops?: readonly Nexthop[];
  scope?: RouteScope | 'host';
  table: number;
  protocol: number;
  metric: number;
}

export const MAIN_TABLE = 254;

/** The metric the kernel gives a route added without one: 0 for IPv4, 1024 for IPv6. */
export const defaultMetric = (family: IpFamily): number => (family === 4 ? 0 : 1024);

export class RouteSpecError extends Error {
  readonly code = 'TABBY_ROUTE_SPEC';
  constructor(message: string) {
    super(message);
    this.name = 'RouteSpecError';
  }
}

// iproute2 refuses (and in a nexthop aborts the whole batch on) names that are not interface
// names: at most 15 characters, no '/', no whitespace.
const deviceName = /^[A-Za-z0-9_.:@-]{1,15}$/;

function checkDevice(dev: string, dst: string): string {
  if (!deviceName.test(dev) || dev === '.' || dev === '..') {
    throw new RouteSpecError(`route ${dst}: invalid device name ${JSON.stringify(dev)}`);
  }
  return dev;
}

/** A prefix of `family` in canonical form (host bits must be clear); throws RouteSpecError. */
export function canonicalPrefix(family: IpFamily, dst: string): string {
  try {
    const cidr = parseCidr(dst);
    if (cidr.family !== family) throw new RouteSpecError(`route ${dst}: not an IPv${family} prefix`);
    return formatCidr(cidr);
  } catch (e) {
    if (e instanceof AddressError) throw new RouteSpecError(`route ${dst}: ${e.message}`);
    throw e;
  }
}

function canonicalGateway(family: IpFamily, via: string, dst: string): string {
  try {
    const ip = parseIp(via);
    if (ip.family !== family) throw new RouteSpecError(`route ${dst}: gateway ${via} is not IPv${family}`);
    return ip.address;
  } catch (e) {
    if (e instanceof AddressError) throw new RouteSpecError(`route ${dst}: ${e.message}`);
    throw e;
  }
}

const compareNexthops = (a: Nexthop, b: Nexthop): number =>
  a.via === b.via ? (a.dev ?? '').localeCompare(b.dev ?? '') : a.via.localeCompare(b.via);

/**
 * The one form a route is compared and rendered in: canonical addresses, table filled in, a
 * route-level `dev` folded into gateway nexthops, nexthops sorted, and the scope the kernel
 * reports (IPv4: `link` for device routes, `global` for gateway routes; none for IPv6, whose
 * routes have no scope, and none for blackholes). Throws RouteSpecError on an invalid route.
 */
export function canonicalRoute(spec: RouteSpec): RouteSpec {
  const { family } = spec;
  if (family !== 4 && family !== 6) throw new RouteSpecError(`route ${spec.dst}: family must be 4 or 6`);
  const dst = canonicalPrefix(family, spec.dst);
  const table = spec.table ?? MAIN_TABLE;
  if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) {
    throw new RouteSpecError(`route ${dst}: invalid table ${table}`);
  }
  if (spec.type === 'blackhole') {
    if (spec.dev !== undefined || (spec.nexthops?.length ?? 0) > 0) {
      throw new RouteSpecError(`route ${dst}: a blackhole has no device or gateway`);
    }
    return { family, dst, type: 'blackhole', table };
  }
  if (spec.type !== 'unicast') throw new RouteSpecError(`route ${dst}: unknown type ${String(spec.type)}`);
  if (spec.scope !== undefined && spec.scope !== 'link' && spec.scope !== 'global') {
    throw new RouteSpecError(`route ${dst}: unknown scope ${String(spec.scope)}`);
  }
  const dev = spec.dev === undefined ? undefined : checkDevice(spec.dev, dst);
  if (spec.nexthops && spec.nexthops.length > 0) {
    const nexthops = spec.nexthops
      .map((nh): Nexthop => {
        const via = canonicalGateway(family, nh.via, dst);
        const nhDev = nh.dev ?? dev;
        return nhDev === undefined ? { via } : { via, dev: checkDevice(nhDev, dst) };
      })
      .sort(compareNexthops);
    const route: RouteSpec = { family, dst, type: 'unicast', nexthops, table };
    if (family === 4) route.scope = spec.scope ?? 'global';
    return route;
  }
  if (dev === undefined)
    throw new RouteSpecError(`route ${dst}: a unicast route needs a device or a gateway`);
  const route: RouteSpec = { family, dst, type: 'unicast', dev, table };
  if (family === 4) route.scope = spec.scope ?? 'link';
  return route;
}

// ---- parsing `ip -N -json route show` ----

/** An entry of `ip -N -json route show` (numeric type, table, protocol and scope). */
export interface IpJsonRoute {
  type?: string;
  dst: string;
  gateway?: string;
  via?: { family?: string; host: string };
  dev?: string;
  table?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  nexthops?: { gateway?: string; via?: { family?: string; host: string }; dev?: string }[];
}

const typeByNumber: Record<string, KernelRouteType> = {
  '1': 'unicast',
  '2': 'local',
  '3': 'broadcast',
  '4': 'anycast',
  '5': 'multicast',
  '6': 'blackhole',
  '7': 'unreachable',
  '8': 'prohibit',
  '9': 'throw',
  '10': 'nat',
  '11': 'xresolve',
};
const typeNames = new Set<string>(Object.values(typeByNumber));

/** A route type as iproute2 prints it, by number (`-N`) or by name. */
export function parseRouteType(text: string | undefined): KernelRouteType | undefined {
  if (text === undefined) return 'unicast';
  if (typeByNumber[text]) return typeByNumber[text];
  return typeNames.has(text) ? (text as KernelRouteType) : undefined;
}

/** iproute2 omits `proto` for RTPROT_BOOT (3); -N prints the others as numbers. */
export function parseProtocol(text: string | undefined): number {
  return text === undefined ? 3 : /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

const tableByName: Record<string, number> = { main: 254, local: 255, default: 253 };

export function parseTable(text: string | undefined): number | undefined {
  if (text === undefined) return MAIN_TABLE;
  if (/^\d+$/.test(text)) return Number(text);
  return tableByName[text];
}

export function parseScope(text: string | undefined): KernelRoute['scope'] {
  switch (text) {
    case undefined:
    case '0':
    case 'global':
    case 'universe':
      return 'global';
    case '253':
    case 'link':
      return 'link';
    default:
      return 'host';
  }
}

/** A destination as iproute2 prints it ("default", a bare host address, a prefix) as a CIDR. */
export function parseKernelDst(family: IpFamily, text: string): string | undefined {
  if (text === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  try {
    const cidr = parseCidr(text.includes('/') ? text : `${text}/${family === 4 ? 32 : 128}`, {
      strict: false,
    });
    return cidr.family === family ? formatCidr(cidr) : undefined;
  } catch {
    return undefined;
  }
}

/** The fields of a kernel route that canonicalRoute also normalizes. */
export interface RawKernelRoute {
  family: IpFamily;
  dst: string;
  type: KernelRouteType;
  dev?: string;
  nexthops: Nexthop[];
  scope: KernelRoute['scope'];
  table: number;
  protocol: number;
  metric?: number;
}

/** Normalizes what the kernel reports the way canonicalRoute normalizes what tabby wants. */
export function normalizeKernelRoute(raw: RawKernelRoute): KernelRoute {
  const route: KernelRoute = {
    family: raw.family,
    dst: raw.dst,
    type: raw.type,
    table: raw.table,
    protocol: raw.protocol,
    metric: raw.metric ?? defaultMetric(raw.family),
  };
  if (raw.type === 'unicast' && raw.nexthops.length > 0) {
    route.nexthops = [...raw.nexthops].sort(compareNexthops);
  } else if (raw.type === 'unicast' && raw.dev !== undefined) {
    route.dev = raw.dev;
  } else if (raw.type !== 'blackhole' && raw.dev !== undefined) {
    route.dev = raw.dev; // e.g. local routes; IPv6 blackholes report `dev lo`, which means nothing
  }
  if (raw.family === 4 && raw.type === 'unicast') route.scope = raw.scope;
  return route;
}

/**
 * One entry of `ip -N -json route show` as a KernelRoute; undefined for what cannot be read.
 * With a `proto N` filter iproute2 leaves the protocol out: pass N as `filteredProtocol`.
 */
export function parseJsonRoute(
  family: IpFamily,
  entry: IpJsonRoute,
  filteredProtocol?: number,
): KernelRoute | undefined {
  const dst = parseKernelDst(family, entry.dst);
  const type = parseRouteType(entry.type);
  const table = parseTable(entry.table);
  const protocol =
    entry.protocol === undefined && filteredProtocol !== undefined
      ? filteredProtocol
      : parseProtocol(entry.protocol);
  if (dst === undefined || type === undefined || table === undefined || !Number.isInteger(protocol)) {
    return undefined;
  }
  const nexthops: Nexthop[] = [];
  const gateway = entry.gateway ?? entry.via?.host;
  if (gateway !== undefined) nexthops.push(entry.dev ? { via: gateway, dev: entry.dev } : { via: gateway });
  for (const nh of entry.nexthops ?? []) {
    const via = nh.gateway ?? nh.via?.host;
    if (via !== undefined) nexthops.push(nh.dev ? { via, dev: nh.dev } : { via });
  }
  return normalizeKernelRoute({
    family,
    dst,
    type,
    dev: entry.dev,
    nexthops,
    scope: parseScope(entry.scope),
    table,
    protocol,
    metric: entry.metric,
  });
}

// ---- rendering `ip -batch` lines ----

export type RouteOpKind = 'add' | 'replace' | 'delete';

/**
 * One change. add/replace write `route` (canonical) with `protocol`; delete removes the route
 * of that type at dst/table/metric carrying `protocol` (never one of another protocol).
 */
export interface RouteOp {
  op: RouteOpKind;
  route: RouteSpec | KernelRoute;
  protocol: number;
}

const safeToken = /^[A-Za-z0-9_.:/@-]+$/;

function token(value: string | number): string {
  const s = String(value);
  if (!safeToken.test(s)) throw new RouteSpecError(`route: unsafe token ${JSON.stringify(s)}`);
  return s;
}

/** Renders one op as an `ip -batch` line (no per-line -4/-6: the family is in the addresses). */
export function renderRouteOp(op: RouteOp): string {
  const r = op.route;
  if (!Number.isInteger(op.protocol) || op.protocol < 1 || op.protocol > 255) {
    throw new RouteSpecError(`route ${r.dst}: invalid protocol ${op.protocol}`);
  }
  const out = ['route', op.op === 'delete' ? 'del' : op.op];
  if (r.type !== 'unicast') out.push(token(r.type));
  out.push(token(r.dst), 'proto', String(op.protocol), 'table', token(r.table ?? MAIN_TABLE));
  if (op.op === 'delete') {
    // No device: a route whose device vanished is gone already, and `dev` would fail to resolve.
    const metric = 'metric' in r ? r.metric : 0;
    if (metric > 0) out.push('metric', token(metric));
    return out.join(' ');
  }
  if (r.type !== 'unicast') return out.join(' ');
  if (r.family === 4 && r.scope) out.push('scope', token(r.scope));
  const nexthops = r.nexthops ?? [];
  if (nexthops.length === 0) {
    if (!r.dev) throw new RouteSpecError(`route ${r.dst}: a unicast route needs a device or a gateway`);
    out.push('dev', token(r.dev));
  } else if (nexthops.length === 1) {
    const [nh] = nexthops as [Nexthop];
    out.push('via', token(nh.via));
    if (nh.dev) out.push('dev', token(nh.dev));
  } else {
    for (const nh of nexthops) {
      out.push('nexthop', 'via', token(nh.via));
      if (nh.dev) out.push('dev', token(nh.dev));
    }
  }
  return out.join(' ');
}

// ---- `ip -batch - -force` results ----

/** Why an op failed: EEXIST, a device missing or down, the batch died before the line, other. */
export type RouteOpFailure = 'exists' | 'device-unavailable' | 'batch-aborted' | 'error';

export type RouteOpResult =
  | { ok: true /** a delete of a route that was not there */; alreadyGone?: boolean }
  | { ok: false; failure: RouteOpFailure; error: KernelError };

export interface BatchErrors {
  /** 1-based batch line → what iproute2 printed for it. */
  byLine: Map<number, string>;
  /** Error text after the last `Command failed` marker: iproute2 gave up on the rest. */
  trailing: string;
}

/** Splits `ip -batch - -force` stderr: each failing line prints its errors, then `Command failed -:N`. */
export function parseBatchStderr(stderr: string): BatchErrors {
  const byLine = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed (?:-|\S+):(\d+)\s*$/.exec(line);
    if (m) {
      byLine.set(Number(m[1]), pending.join('\n').trim());
      pending = [];
    } else if (line.trim()) {
      pending.push(line);
    }
  }
  return { byLine, trailing: pending.join('\n').trim() };
}

const deviceUnavailable = /Cannot find device|Device for nexthop is not up|Nexthop device is not up/i;

function failureOf(op: RouteOp, text: string, errno: KernelError['errno']): RouteOpFailure {
  if (errno === 'EEXIST' && op.op !== 'delete') return 'exists';
  if (deviceUnavailable.test(text)) return 'device-unavailable';
  return 'error';
}

/** Maps a batch's exit code and stderr back to one result per op (`lines[i]` rendered `ops[i]`). */
export function batchResults(
  ops: readonly RouteOp[],
  lines: readonly string[],
  exitCode: number,
  stderr: string,
  describe: (line: string) => string,
): RouteOpResult[] {
  const { byLine, trailing } = parseBatchStderr(stderr);
  // -force: exit 1 when some lines failed. Anything else with errors left over means iproute2
  // exited mid-batch (it does on some parse errors): lines after the last report are unknown.
  const aborted = exitCode !== 0 && (exitCode !== 1 || trailing !== '' || byLine.size === 0);
  const lastReported = Math.max(0, ...byLine.keys());
  return ops.map((op, i): RouteOpResult => {
    const lineNo = i + 1;
    const text = byLine.get(lineNo);
    if (text !== undefined) {
      const errno = errnoFromText(text);
      if (op.op === 'delete' && errno === 'ENOENT') return { ok: true, alreadyGone: true };
      const error = new KernelError(describe(lines[i] ?? ''), errno, text);
      return { ok: false, failure: failureOf(op, text, errno), error };
    }
    if (aborted && lineNo > lastReported) {
      const detail = trailing || `ip -batch exited with code ${exitCode}`;
      return {
        ok: false,
        failure: 'batch-aborted',
        error: new KernelError(describe(lines[i] ?? ''), 'EUNKNOWN', detail),
      };
    }
    return { ok: true };
  });
}

// ---- I/O ----

const ipArgv = (netns: string | undefined, args: readonly string[]): string[] =>
  netns ? ['ip', '-n', netns, ...args] : ['ip', ...args];

/** Routes carrying `protocol` in every table (both families unless `family` is given). */
export async function listRoutes(
  netns: string | undefined,
  opts: { protocol: number; family?: IpFamily },
): Promise<KernelRoute[]> {
  const families: IpFamily[] = opts.family ? [opts.family] : [4, 6];
  const lists = await Promise.all(
    families.map(async (family) => {
      const args = ['-N', `-${family}`, 'route', 'show', 'table', 'all', 'proto', String(opts.protocol)];
      const entries = await ipJson<IpJsonRoute[]>(netns, args);
      const routes: KernelRoute[] = [];
      for (const entry of entries) {
        const route = parseJsonRoute(family, entry, opts.protocol);
        if (route && route.protocol === opts.protocol) routes.push(route);
      }
      return routes;
    }),
  );
  return lists.flat();
}

async function linkNames(netns: string | undefined): Promise<Set<string>> {
  const links = await ipJson<{ ifname: string }[]>(netns, ['link', 'show']);
  return new Set(links.map((l) => l.ifname));
}

/** Devices named inside multipath nexthops: iproute2 aborts the whole batch if one is missing. */
function nexthopDevices(op: RouteOp): string[] {
  const nexthops = op.op === 'delete' ? [] : (op.route.nexthops ?? []);
  return nexthops.length > 1 ? nexthops.flatMap((nh) => (nh.dev ? [nh.dev] : [])) : [];
}

const BATCH_TIMEOUT_MS = 60_000;

/**
 * Applies `ops` in one `ip -batch - -force` process and returns one result per op. A delete
 * of a route that is already gone succeeds. Rejects (KernelError) only when the batch itself
 * could not run (spawn failure, timeout).
 */
export async function applyRouteBatch(
  netns: string | undefined,
  ops: readonly RouteOp[],
): Promise<RouteOpResult[]> {
  const results: (RouteOpResult | undefined)[] = new Array(ops.length);
  const prefix = ipArgv(netns, []).join(' ');
  const describe = (line: string) => `${prefix} ${line}`;
  const lines = ops.map(renderRouteOp);

  if (ops.some((op) => nexthopDevices(op).length > 0)) {
    const present = await linkNames(netns);
    ops.forEach((op, i) => {
      const missing = nexthopDevices(op).find((d) => !present.has(d));
      if (missing === undefined) return;
      const detail = `Cannot find device "${missing}"`;
      results[i] = {
        ok: false,
        failure: 'device-unavailable',
        error: new KernelError(describe(lines[i] ?? ''), 'ENOENT', detail),
      };
    });
  }

  const sent = ops.flatMap((op, i) => (results[i] ? [] : [{ op, i, line: lines[i] ?? '' }]));
  if (sent.length > 0) {
    let exitCode = 0;
    let stderr = '';
    try {
      const input = sent.map((s) => `${s.line}\n`).join('');
      ({ stderr } = await run(ipArgv(netns, ['-batch', '-', '-force']), {
        input,
        timeoutMs: BATCH_TIMEOUT_MS,
      }));
    } catch (e) {
      if (!(e instanceof ExecError) || e.exitCode === null) throw toKernelError(e);
      exitCode = e.exitCode;
      stderr = e.stderr;
    }
    const sentResults = batchResults(
      sent.map((s) => s.op),
      sent.map((s) => s.line),
      exitCode,
      stderr,
      describe,
    );
    sent.forEach((s, k) => {
      results[s.i] = sentResults[k];
    });
  }
  return results.map((r) => r ?? { ok: true });
}
