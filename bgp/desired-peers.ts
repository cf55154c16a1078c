// Which neighbors this node's speaker has (pure): other nodes of its AS (full mesh, or route
// reflection when any node of the AS carries a cluster id) and the BGPPeers that apply to it.
// One address, one neighbor: a node-scoped BGPPeer beats a global one, which beats a node
// peering. A password that cannot be resolved leaves its neighbor out entirely (never peered
// without it), and its address stays taken.
import { type IpFamily, toBigInt } from '../common/addr.js';
import { BGP_CONFIGURATION_NAME, type LabelSelector, NODE_BGP_ANNOTATIONS } from '../datastore/resources.js';
import { selectorMatches } from '../ipam/selector.js';
import type { PeerSpec } from './desired-peer-spec.js';
import { type BgpSettings, DEFAULT_RESTART_TIME, fitKeepalive, type NodeBgp } from './desired-settings.js';
import type { BgpIssue, DesiredPeer, PeerKind } from './desired-types.js';
import { secretRefKey } from './inputs-types.js';
import { formatPeerDescription } from './peer-description.js';

/** True when a BGPPeer scoped by `node` / `nodeSelector` applies to node `name` with `labels`. */
export function peerAppliesTo(
  scope: { node?: string; nodeSelector?: LabelSelector },
  name: string,
  labels: Record<string, string>,
): boolean {
  if (scope.node !== undefined) return scope.node === name;
  if (scope.nodeSelector !== undefined) return selectorMatches(scope.nodeSelector, labels);
  return true;
}

export interface PeerSelectionInput {
  self: NodeBgp;
  /** False when the node's own annotations keep it out of node peering. */
  selfPeerable: boolean;
  /** The other nodes of this node's AS. */
  others: { node: NodeBgp; peerable: boolean }[];
  settings: BgpSettings;
  /** Valid BGPPeers (applicability is decided here). */
  peers: PeerSpec[];
  secrets: Map<string, string>;
  secretErrors?: Map<string, string>;
  localRestarting: boolean;
}

export interface PeerSelection {
  peers: DesiredPeer[];
  /** This node reflects routes for its clients. */
  reflector: boolean;
  /** Addresses of the node peers (reflector and reflector-client kinds), by family. */
  reflectionPeers: Record<IpFamily, string[]>;
  /** The configured BGPPeers that may send prefixes outside the pools. */
  allowed: { address: string; family: IpFamily; prefixes: PeerSpec['allowedPrefixes'] }[];
}

/** The secret's value, or why there is none. */
function resolveSecret(
  ref: { namespace: string; name: string; key: string },
  secrets: Map<string, string>,
  errors: Map<string, string> | undefined,
): { value: string } | { error: string } {
  const k = secretRefKey(ref);
  const value = secrets.get(k);
  const what = `Secret ${ref.namespace}/${ref.name} key ${JSON.stringify(ref.key)}`;
  if (value === undefined) return { error: `${what}: ${errors?.get(k) ?? 'not found'}` };
  if (value === '') return { error: `${what} is empty` };
  return { value };
}

const PRIORITY: Record<PeerKind, number> = {
  node: 3,
  global: 2,
  mesh: 1,
  reflector: 1,
  'reflector-client': 1,
};

export function comparePeers(a: { address: string }, b: { address: string }): number {
  const fa = a.address.includes(':') ? 6 : 4;
  const fb = b.address.includes(':') ? 6 : 4;
  if (fa !== fb) return fa - fb;
  const x = toBigInt(a.address);
  const y = toBigInt(b.address);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function selectPeers(input: PeerSelectionInput, issues: BgpIssue[]): PeerSelection {
  const { self, settings } = input;
  const taken = new Map<string, { kind: PeerKind; source: string }>();
  const out: DesiredPeer[] = [];
  const gracefulRestart = (on: boolean) =>
    on
      ? {
          restartTime: settings.gracefulRestartTime > 0 ? settings.gracefulRestartTime : DEFAULT_RESTART_TIME,
          localRestarting: input.localRestarting,
        }
      : undefined;
  const allowed: PeerSelection['allowed'] = [];

  // BGPPeers: node-scoped first, then global; by name within each.
  const applying = input.peers
    .filter((p) => peerAppliesTo(p, self.name, self.labels))
    .sort((a, b) => PRIORITY[b.scope] - PRIORITY[a.scope] || a.name.localeCompare(b.name));
  for (const p of applying) {
    const src = `BGPPeer ${p.name}`;
    // A global BGPPeer naming this node's own address (a reflector among the nodes): not to itself.
    if (self.allAddresses.has(p.address)) continue;
    const holder = taken.get(p.address);
    if (holder) {
      issues.push({
        source: src,
        message: `spec.peerIP: ${p.address} is also BGPPeer ${holder.source}'s, which applies instead`,
      });
      continue;
    }
    taken.set(p.address, { kind: p.scope, source: p.name });
    let password: string | undefined;
    if (p.password) {
      const s = resolveSecret(p.password, input.secrets, input.secretErrors);
      if ('error' in s) {
        issues.push({ source: src, message: `spec.password: ${s.error}; the peer is not configured` });
        continue;
      }
      password = s.value;
    }
    const holdTime = p.holdTime ?? settings.holdTime;
    const peer: DesiredPeer = {
      kind: p.scope,
      source: p.name,
      address: p.address,
      asn: p.asn,
      description: formatPeerDescription(p.scope, p.name),
      holdTime,
      keepaliveInterval: fitKeepalive(p.keepaliveTime ?? settings.keepaliveTime, holdTime),
      connectRetry: settings.connectRetryTime,
      families: [p.family],
    };
    const gr = gracefulRestart(p.gracefulRestart ?? settings.gracefulRestartTime > 0);
    if (gr) peer.gracefulRestart = gr;
    if (password !== undefined) peer.password = password;
    if (p.sourceAddress !== undefined) peer.localAddress = p.sourceAddress;
    if (p.port !== undefined) peer.port = p.port;
    if (p.multihopTtl !== undefined) peer.multihopTtl = p.multihopTtl;
    if (p.maxPrefixes !== undefined) peer.maxPrefixes = p.maxPrefixes;
    if (p.passive !== undefined) peer.passive = p.passive;
    out.push(peer);
    if (p.allowedPrefixes.length > 0)
      allowed.push({ address: p.address, family: p.family, prefixes: p.allowedPrefixes });
  }

  const reflector = input.selfPeerable && self.clusterId !== undefined;
  const reflectionPeers: Record<IpFamily, string[]> = { 4: [], 6: [] };
  const nodePeers = input.selfPeerable ? nodePeerings(input, issues) : [];
  if (nodePeers.length > 0) {
    let password: string | undefined;
    let problem: string | undefined;
    if (settings.meshPassword === 'invalid') problem = 'names no Secret key';
    else if (settings.meshPassword) {
      const s = resolveSecret(settings.meshPassword, input.secrets, input.secretErrors);
      if ('error' in s) problem = s.error;
      else password = s.value;
    }
    if (problem)
      issues.push({
        source: `BGPConfiguration ${BGP_CONFIGURATION_NAME}`,
        message: `spec.meshPassword: ${problem}; no node-to-node session is configured`,
      });
    const ok = problem === undefined;
    for (const n of ok ? nodePeers : []) {
      if (taken.has(n.address)) continue; // an explicit BGPPeer for that address wins
      taken.set(n.address, n);
      const peer: DesiredPeer = {
        kind: n.kind,
        source: n.source,
        address: n.address,
        asn: self.asn,
        description: formatPeerDescription(n.kind, n.source),
        localAddress: n.localAddress,
        holdTime: settings.holdTime,
        keepaliveInterval: settings.keepaliveTime,
        connectRetry: settings.connectRetryTime,
        families: [n.family],
      };
      // Every node listens on the configured port: dial it there.
      if (settings.listenPort !== 179) peer.port = settings.listenPort;
      const gr = gracefulRestart(settings.gracefulRestartTime > 0);
      if (gr) peer.gracefulRestart = gr;
      if (password !== undefined) peer.password = password;
      if (n.kind === 'reflector-client' && self.clusterId)
        peer.routeReflectorClient = { clusterId: self.clusterId };
      out.push(peer);
      if (n.kind !== 'mesh') reflectionPeers[n.family].push(n.address);
    }
  }

  out.sort(comparePeers);
  for (const f of [4, 6] as const)
    reflectionPeers[f].sort((a, b) => comparePeers({ address: a }, { address: b }));
  return { peers: out, reflector, reflectionPeers, allowed };
}

interface NodePeering {
  kind: PeerKind;
  source: string;
  address: string;
  localAddress: string;
  family: IpFamily;
}

/**
 * Sessions with the other nodes of this node's AS: route reflection when any node of the AS
 * carries a cluster id (whatever the mesh flag says), else the full mesh when enabled, else none.
 */
function nodePeerings(input: PeerSelectionInput, issues: BgpIssue[]): NodePeering[] {
  const { self, settings } = input;
  const others = [...input.others].sort((a, b) => a.node.name.localeCompare(b.node.name));
  const reflection = self.reflectorAnnotated || others.some((o) => o.node.reflectorAnnotated);
  if (!reflection && !settings.mesh) return [];
  const out: NodePeering[] = [];
  const seen = new Map<string, string>();
  for (const { node, peerable } of others) {
    if (!peerable || node.name === self.name) continue;
    let kind: PeerKind;
    if (!reflection) kind = 'mesh';
    else if (self.clusterId) kind = node.clusterId ? 'reflector' : 'reflector-client';
    else if (node.clusterId) kind = 'reflector';
    else continue;
    for (const family of [4, 6] as const) {
      const address = node.addresses[family];
      const local = self.addresses[family];
      if (!address || !local) continue;
      const key = family === 4 ? NODE_BGP_ANNOTATIONS.ipv4 : NODE_BGP_ANNOTATIONS.ipv6;
      const clash = self.allAddresses.has(address) ? self.name : seen.get(address);
      if (clash) {
        issues.push({
          source: `Node ${node.name}`,
          message: `annotation ${key}: ${address} is also node ${clash}'s; no session with it`,
        });
        continue;
      }
      seen.set(address, node.name);
      out.push({ kind, source: node.name, address, localAddress: local, family });
    }
  }
  return out;
}
