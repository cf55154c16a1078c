// Parsing `ip -N -json route show` output (and its fields, shared with `ip monitor route`) into
// canonical KernelRoutes. Pure.
import { formatCidr, type IpFamily, parseCidr } from '../common/addr.js';
import {
  compareNexthops,
  defaultMetric,
  type KernelRoute,
  type KernelRouteType,
  MAIN_TABLE,
  type Nexthop,
} from './route-spec.js';

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
  } else if (raw.type !== 'blackhole' && raw.dev !== undefined) {
    route.dev = raw.dev; // unicast, and e.g. local routes; IPv6 blackholes report `dev lo`, which means nothing
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
