// A BGPPeer's spec checked and made canonical for bgp/desired.ts (pure). Every problem is an
// issue naming the field; a spec with one is not used (non-fatal remarks aside).
import { type Cidr, type IpFamily, parseCidr } from '../common/addr.js';
import type { BGPPeerSpec, LabelSelector, Resource, SecretKeyRef } from '../datastore/resources.js';
import {
  canonicalIp,
  checkTimers,
  type Issues,
  MAX_ASN,
  optionalBool,
  optionalHold,
  optionalInt,
  peerableAddress,
  readSecretRef,
} from './desired-settings.js';

/** A BGPPeer's spec, checked and canonical. */
export interface PeerSpec {
  name: string;
  scope: 'node' | 'global';
  node?: string;
  nodeSelector?: LabelSelector;
  address: string;
  family: IpFamily;
  asn: number;
  port?: number;
  password?: SecretKeyRef;
  keepaliveTime?: number;
  holdTime?: number;
  gracefulRestart?: boolean;
  multihopTtl?: number;
  maxPrefixes?: number;
  /** Of the session's family only. */
  allowedPrefixes: Cidr[];
  sourceAddress?: string;
  passive?: boolean;
}

function readSelector(issues: Issues, source: string, value: unknown): LabelSelector | 'invalid' {
  const field = 'spec.nodeSelector';
  const fail = (message: string) => {
    issues.push({ source, message: `${field}${message}` });
    return 'invalid' as const;
  };
  if (typeof value !== 'object' || value === null) return fail(': must be a label selector');
  const sel = value as LabelSelector;
  if (sel.matchLabels !== undefined) {
    const ok =
      typeof sel.matchLabels === 'object' &&
      sel.matchLabels !== null &&
      Object.values(sel.matchLabels).every((v) => typeof v === 'string');
    if (!ok) return fail('.matchLabels: must map label keys to string values');
  }
  if (sel.matchExpressions !== undefined) {
    if (!Array.isArray(sel.matchExpressions)) return fail('.matchExpressions: must be a list');
    for (const [i, e] of sel.matchExpressions.entries()) {
      const at = `.matchExpressions[${i}]`;
      if (typeof e?.key !== 'string' || e.key === '') return fail(`${at}.key: must be a label key`);
      const values = e.values ?? [];
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))
        return fail(`${at}.values: must be a list of strings`);
      if (e.operator === 'In' || e.operator === 'NotIn') {
        if (values.length === 0) return fail(`${at}.values: must not be empty for ${e.operator}`);
      } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
        if (values.length > 0) return fail(`${at}.values: must be empty for ${e.operator}`);
      } else {
        return fail(`${at}.operator: ${JSON.stringify(e.operator)} is not In, NotIn, Exists or DoesNotExist`);
      }
    }
  }
  return sel;
}

/** A BGPPeer's spec; undefined (with issues naming the fields) when it cannot be used. */
export function readPeer(res: Resource<BGPPeerSpec>, issues: Issues): PeerSpec | undefined {
  const name = res.metadata.name;
  const src = `BGPPeer ${name}`;
  const spec = (res.spec ?? {}) as Partial<Record<keyof BGPPeerSpec, unknown>>;
  const before = issues.length;
  const fail = (message: string) => issues.push({ source: src, message });

  let node: string | undefined;
  if (spec.node !== undefined) {
    if (typeof spec.node === 'string' && spec.node !== '') node = spec.node;
    else fail(`spec.node: ${JSON.stringify(spec.node)} is not a node name`);
  }
  const nodeSelector =
    spec.nodeSelector === undefined ? undefined : readSelector(issues, src, spec.nodeSelector);
  if (spec.node !== undefined && spec.nodeSelector !== undefined)
    fail('spec.node and spec.nodeSelector: set one of them, or neither (every node)');

  const ip = typeof spec.peerIP === 'string' ? canonicalIp(spec.peerIP.trim()) : undefined;
  if (spec.peerIP === undefined) fail('spec.peerIP: required');
  else if (!ip || !peerableAddress(ip.address))
    fail(`spec.peerIP: ${JSON.stringify(spec.peerIP)} is not a unicast IPv4 or IPv6 address`);

  let asn: number | undefined;
  if (spec.asNumber === undefined) fail('spec.asNumber: required');
  else asn = optionalInt(issues, src, 'spec.asNumber', spec.asNumber, 1, MAX_ASN);

  const port = optionalInt(issues, src, 'spec.port', spec.port, 1, 65535);
  const password =
    spec.password === undefined ? undefined : readSecretRef(issues, src, 'spec.password', spec.password);
  const holdTime = optionalHold(issues, src, 'spec.holdTime', spec.holdTime);
  const keepaliveRaw = optionalInt(issues, src, 'spec.keepaliveTime', spec.keepaliveTime, 1, 21845);
  const gracefulRestart = optionalBool(issues, src, 'spec.gracefulRestart', spec.gracefulRestart);
  const multihopTtl = optionalInt(issues, src, 'spec.ebgpMultihop', spec.ebgpMultihop, 2, 255);
  const maxPrefixes = optionalInt(issues, src, 'spec.maxPrefixes', spec.maxPrefixes, 1, MAX_ASN);
  const passive = optionalBool(issues, src, 'spec.passive', spec.passive);

  let sourceAddress: string | undefined;
  if (spec.sourceAddress !== undefined) {
    const s = typeof spec.sourceAddress === 'string' ? canonicalIp(spec.sourceAddress.trim()) : undefined;
    if (!s || !peerableAddress(s.address))
      fail(`spec.sourceAddress: ${JSON.stringify(spec.sourceAddress)} is not a unicast IP address`);
    else if (ip && s.family !== ip.family)
      fail(`spec.sourceAddress: ${s.address} is not of the family of spec.peerIP (IPv${ip.family})`);
    else sourceAddress = s.address;
  }

  const allowed: Cidr[] = [];
  const otherFamily: string[] = [];
  if (spec.allowedPrefixes !== undefined) {
    if (!Array.isArray(spec.allowedPrefixes)) fail('spec.allowedPrefixes: must be a list of CIDRs');
    else
      for (const [i, text] of spec.allowedPrefixes.entries()) {
        let c: Cidr | undefined;
        try {
          c = parseCidr(String(text).trim());
        } catch (e) {
          fail(`spec.allowedPrefixes[${i}]: ${(e as Error).message}`);
          continue;
        }
        if (ip && c.family !== ip.family) otherFamily.push(`spec.allowedPrefixes[${i}]`);
        else allowed.push(c);
      }
  }

  if (
    issues.length > before ||
    !ip ||
    asn === undefined ||
    password === 'invalid' ||
    nodeSelector === 'invalid'
  )
    return undefined;
  // Not fatal: the session carries one family, so these prefixes can never arrive.
  if (otherFamily.length > 0)
    fail(`${otherFamily.join(', ')}: not IPv${ip.family} like spec.peerIP; never received on this session`);
  const peer: PeerSpec = {
    name,
    scope: node !== undefined ? 'node' : 'global',
    address: ip.address,
    family: ip.family,
    asn,
    allowedPrefixes: allowed,
    keepaliveTime: checkTimers(issues, src, keepaliveRaw, holdTime),
  };
  if (node !== undefined) peer.node = node;
  if (nodeSelector !== undefined) peer.nodeSelector = nodeSelector;
  if (port !== undefined) peer.port = port;
  if (password !== undefined) peer.password = password;
  if (holdTime !== undefined) peer.holdTime = holdTime;
  if (gracefulRestart !== undefined) peer.gracefulRestart = gracefulRestart;
  if (multihopTtl !== undefined) peer.multihopTtl = multihopTtl;
  if (maxPrefixes !== undefined) peer.maxPrefixes = maxPrefixes;
  if (sourceAddress !== undefined) peer.sourceAddress = sourceAddress;
  if (passive !== undefined) peer.passive = passive;
  if (peer.keepaliveTime === undefined) delete peer.keepaliveTime;
  return peer;
}
