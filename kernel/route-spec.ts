// The route model (what tabby wants, what the kernel reports) and its canonical form. Pure.
import { AddressError, formatCidr, type IpFamily, parseCidr, parseIp } from '../common/addr.js';

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

/** Orders nexthops by gateway, then device: the order canonical routes keep them in. */
export const compareNexthops = (a: Nexthop, b: Nexthop): number =>
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
