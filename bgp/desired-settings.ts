// Reading BGP settings out of the datastore's objects for bgp/desired.ts: the BGPConfiguration
// with its defaults, a Node's BGP annotations (a BGPPeer's spec: desired-peer-spec.ts). Pure. Anything invalid is
// reported as an issue naming the object and the field, never thrown: the API server validates
// the same fields (deploy/crds), so these checks matter for annotations and for stores without
// validation.
import ipaddr from 'ipaddr.js';
import { type IpFamily, parseIp } from '../common/addr.js';
import {
  BGP_CONFIGURATION_NAME,
  type BGPConfigurationSpec,
  NODE_BGP_ANNOTATIONS,
  type NodeInfo,
  type SecretKeyRef,
} from '../datastore/resources.js';
import type { BgpIssue } from './desired-types.js';

export const MAX_ASN = 4294967295;

/** The BGPConfiguration with every default filled in. */
export interface BgpSettings {
  asNumber: number;
  mesh: boolean;
  listenPort: number;
  /** 0: graceful restart off. */
  gracefulRestartTime: number;
  keepaliveTime: number;
  holdTime: number;
  connectRetryTime: number;
  /** 'invalid': a reference that names no Secret key (the mesh is then not configured at all). */
  meshPassword?: SecretKeyRef | 'invalid';
}

export const DEFAULT_SETTINGS: BgpSettings = {
  asNumber: 64512,
  mesh: true,
  listenPort: 179,
  gracefulRestartTime: 120,
  keepaliveTime: 30,
  holdTime: 90,
  connectRetryTime: 5,
};

/** Restart time used when a BGPPeer turns graceful restart on while the configuration has it off. */
export const DEFAULT_RESTART_TIME = 120;

export type Issues = BgpIssue[];

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Checks an optional integer field; undefined when absent or invalid (invalid: an issue). */
export function optionalInt(
  issues: Issues,
  source: string,
  field: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (isInt(value, min, max)) return value;
  issues.push({ source, message: `${field}: ${JSON.stringify(value)} is not an integer in ${min}-${max}` });
  return undefined;
}

export function optionalBool(
  issues: Issues,
  source: string,
  field: string,
  value: unknown,
): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  issues.push({ source, message: `${field}: ${JSON.stringify(value)} is not true or false` });
  return undefined;
}

/**
 * Hold time: 3-65535 seconds. RFC 4271 also allows 0 (no keepalives), but gobgpd turns a 0 into
 * its default (90): every resync would then see 90 where 0 is wanted and reset the session.
 */
export function optionalHold(
  issues: Issues,
  source: string,
  field: string,
  value: unknown,
): number | undefined {
  return optionalInt(issues, source, field, value, 3, 65535);
}

/** Keepalive and hold set together: a keepalive above a third of the hold time is refused. */
export function checkTimers(
  issues: Issues,
  source: string,
  keepalive: number | undefined,
  hold: number | undefined,
): number | undefined {
  if (keepalive === undefined || hold === undefined || keepalive * 3 <= hold) return keepalive;
  issues.push({
    source,
    message: `spec.keepaliveTime: ${keepalive} is more than a third of spec.holdTime (${hold}); using ${Math.max(1, Math.floor(hold / 3))}`,
  });
  return Math.max(1, Math.floor(hold / 3));
}

/** The keepalive to use with `hold`: at most a third of it (gobgpd would otherwise drop the session). */
export const fitKeepalive = (keepalive: number, hold: number): number =>
  hold > 0 && keepalive * 3 > hold ? Math.max(1, Math.floor(hold / 3)) : keepalive;

export function readSecretRef(
  issues: Issues,
  source: string,
  field: string,
  value: unknown,
): SecretKeyRef | 'invalid' {
  const ref = value as Partial<SecretKeyRef> | null;
  const ok = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (typeof ref === 'object' && ref !== null && ok(ref.namespace) && ok(ref.name) && ok(ref.key)) {
    return { namespace: ref.namespace as string, name: ref.name as string, key: ref.key as string };
  }
  issues.push({ source, message: `${field}: must name a Secret key ({namespace, name, key})` });
  return 'invalid';
}

export function readConfig(config: BGPConfigurationSpec | undefined, issues: Issues): BgpSettings {
  const s = { ...DEFAULT_SETTINGS };
  if (!config) return s;
  const src = `BGPConfiguration ${BGP_CONFIGURATION_NAME}`;
  s.asNumber = optionalInt(issues, src, 'spec.asNumber', config.asNumber, 1, MAX_ASN) ?? s.asNumber;
  s.mesh = optionalBool(issues, src, 'spec.nodeToNodeMeshEnabled', config.nodeToNodeMeshEnabled) ?? s.mesh;
  s.listenPort = optionalInt(issues, src, 'spec.listenPort', config.listenPort, 1, 65535) ?? s.listenPort;
  s.gracefulRestartTime =
    optionalInt(issues, src, 'spec.gracefulRestartTime', config.gracefulRestartTime, 0, 4095) ??
    s.gracefulRestartTime;
  const hold = optionalHold(issues, src, 'spec.holdTime', config.holdTime);
  const keepalive = checkTimers(
    issues,
    src,
    optionalInt(issues, src, 'spec.keepaliveTime', config.keepaliveTime, 1, 21845),
    hold,
  );
  s.holdTime = hold ?? s.holdTime;
  s.keepaliveTime = fitKeepalive(keepalive ?? s.keepaliveTime, s.holdTime);
  s.connectRetryTime =
    optionalInt(issues, src, 'spec.connectRetryTime', config.connectRetryTime, 1, 65535) ??
    s.connectRetryTime;
  if (config.meshPassword !== undefined) {
    // An invalid reference must not leave the mesh unauthenticated: it stays, as 'invalid'.
    s.meshPassword = readSecretRef(issues, src, 'spec.meshPassword', config.meshPassword);
  }
  return s;
}

/** A Node's BGP identity, from its annotations. */
export interface NodeBgp {
  name: string;
  labels: Record<string, string>;
  asn: number;
  /** Explicit router id (annotation). */
  routerId?: string;
  /** Set on route reflectors (a valid cluster id). */
  clusterId?: string;
  /** The cluster id annotation is present, valid or not: the node's AS uses route reflection. */
  reflectorAnnotated: boolean;
  /** Canonical BGP addresses by family (annotations bgp-ipv4 / bgp-ipv6). */
  addresses: Partial<Record<IpFamily, string>>;
  /** Every address of the Node (BGP annotations and status.addresses), canonical. */
  allAddresses: Set<string>;
}

export const canonicalIp = (text: string): { family: IpFamily; address: string } | undefined => {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
};

/** A dotted quad other than 0.0.0.0 (router ids and cluster ids are 32-bit numbers). */
const dottedQuad = (text: string): string | undefined => {
  const ip = canonicalIp(text);
  return ip?.family === 4 && ip.address !== '0.0.0.0' ? ip.address : undefined;
};

/**
 * A Node's BGP settings; undefined (with an issue) when its AS annotation is invalid, since then
 * nobody can tell which AS it is in. Address, router id and cluster id annotations that are
 * invalid are reported and ignored, except an invalid cluster id, which leaves the node out of
 * node peering (it was meant to change the topology).
 */
export function readNode(
  info: NodeInfo,
  defaultAsn: number,
  issues: Issues,
): { node: NodeBgp; peerable: boolean } | undefined {
  const src = `Node ${info.name}`;
  const ann = info.annotations ?? {};
  const bad = (key: string, what: string) =>
    issues.push({ source: src, message: `annotation ${key}: ${JSON.stringify(ann[key])} is not ${what}` });
  let asn = defaultAsn;
  const asnText = ann[NODE_BGP_ANNOTATIONS.asn];
  if (asnText !== undefined) {
    const n = /^[0-9]{1,10}$/.test(asnText.trim()) ? Number(asnText.trim()) : Number.NaN;
    if (!isInt(n, 1, MAX_ASN)) {
      bad(NODE_BGP_ANNOTATIONS.asn, `an AS number (1-${MAX_ASN})`);
      return undefined;
    }
    asn = n;
  }
  const node: NodeBgp = {
    name: info.name,
    labels: info.labels ?? {},
    asn,
    reflectorAnnotated: ann[NODE_BGP_ANNOTATIONS.routeReflectorClusterId] !== undefined,
    addresses: {},
    allAddresses: new Set(),
  };
  let peerable = true;
  for (const family of [4, 6] as const) {
    const key = family === 4 ? NODE_BGP_ANNOTATIONS.ipv4 : NODE_BGP_ANNOTATIONS.ipv6;
    const text = ann[key];
    if (text === undefined || text === '') continue;
    const ip = canonicalIp(text.trim());
    if (ip?.family !== family || !peerableAddress(ip.address)) {
      bad(key, `a unicast IPv${family} address`);
      continue;
    }
    node.addresses[family] = ip.address;
  }
  const routerIdText = ann[NODE_BGP_ANNOTATIONS.routerId];
  if (routerIdText !== undefined) {
    node.routerId = dottedQuad(routerIdText.trim());
    if (!node.routerId) bad(NODE_BGP_ANNOTATIONS.routerId, 'a router id (a dotted quad other than 0.0.0.0)');
  }
  const clusterText = ann[NODE_BGP_ANNOTATIONS.routeReflectorClusterId];
  if (clusterText !== undefined) {
    node.clusterId = dottedQuad(clusterText.trim());
    if (!node.clusterId) {
      bad(
        NODE_BGP_ANNOTATIONS.routeReflectorClusterId,
        'a cluster id (a dotted quad other than 0.0.0.0); the node is left out of node-to-node peering',
      );
      peerable = false;
    }
  }
  for (const a of Object.values(node.addresses)) node.allAddresses.add(a);
  for (const a of info.addresses ?? []) {
    const ip = canonicalIp(a.address);
    if (ip) node.allAddresses.add(ip.address);
  }
  return { node, peerable };
}

const UNPEERABLE = new Set(['unspecified', 'broadcast', 'multicast', 'linkLocal', 'loopback', 'ipv4Mapped']);

/** A unicast address a BGP session can use (not unspecified, loopback, link-local or multicast). */
export function peerableAddress(address: string): boolean {
  return !UNPEERABLE.has(ipaddr.parse(address).range());
}
