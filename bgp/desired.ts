// What this node's BGP speaker should look like, computed from the datastore's view (pure):
// StartBgp's global settings, the neighbors (bgp/desired-peers.ts), the routes to originate, and
// the import/export policies (bgp/desired-policies.ts). Nothing here throws on bad input: every
// problem becomes an issue naming the object and the field, and only that part is left out.
// Without a usable AS number or router id there is no BGP at all (`desired` undefined).
import { type Cidr, cidrContains, formatCidr, type IpFamily, parseCidr, parseIp } from '../common/addr.js';
import { type BGPPeerSpec, NODE_BGP_ANNOTATIONS, type Resource } from '../datastore/resources.js';
import { selectorMatches } from '../ipam/selector.js';
import { type PeerSpec, readPeer } from './desired-peer-spec.js';
import { comparePeers, peerAppliesTo, selectPeers } from './desired-peers.js';
import { buildPolicies } from './desired-policies.js';
import { type NodeBgp, readConfig, readNode } from './desired-settings.js';
import type { BgpIssue, DesiredBgp, DesiredBgpResult } from './desired-types.js';
import type { BgpInputs } from './inputs-types.js';

/**
 * Where gobgpd listens: the IPv6 wildcard only when this node has an IPv6 BGP address. On a host
 * without IPv6 (ipv6.disable=1) binding '::' fails after 0.0.0.0 was bound, and gobgpd does not
 * recover from that.
 */
export const listenAddresses = (ipv6: boolean): string[] => (ipv6 ? ['0.0.0.0', '::'] : ['0.0.0.0']);

const DEFAULT_BLOCK_SIZE: Record<IpFamily, number> = { 4: 26, 6: 122 };

export function computeDesiredBgp(input: BgpInputs): DesiredBgpResult {
  const issues: BgpIssue[] = [];
  const settings = readConfig(input.config, issues);

  const selfInfo = input.nodes.find((n) => n.name === input.node);
  if (!selfInfo) {
    issues.push({ source: `Node ${input.node}`, message: 'not found: no BGP until it exists' });
    return { issues };
  }
  const selfRead = readNode(selfInfo, settings.asNumber, issues);
  if (!selfRead) return { issues };
  const self = selfRead.node;
  const explicitId = selfInfo.annotations[NODE_BGP_ANNOTATIONS.routerId] !== undefined;
  // An invalid router id annotation (reported) is not replaced by the address: it was meant to differ.
  const routerId = explicitId ? self.routerId : self.addresses[4];
  if (!routerId) {
    if (!explicitId) {
      issues.push({
        source: `Node ${self.name}`,
        message: `no router id: annotation ${NODE_BGP_ANNOTATIONS.routerId} is not set and there is no IPv4 BGP address (annotation ${NODE_BGP_ANNOTATIONS.ipv4}); no BGP until there is one`,
      });
    }
    return { issues };
  }

  const others = otherNodes(input, self, routerId, settings.asNumber, issues);
  const peers = applyingPeers(input.peers, self, issues);
  const selection = selectPeers(
    {
      self,
      selfPeerable: selfRead.peerable,
      others,
      settings,
      peers,
      secrets: input.secrets,
      secretErrors: input.secretErrors,
      localRestarting: input.localRestarting ?? false,
    },
    issues,
  );

  const pools = readPools(input, issues);
  const ownBlocks = uniqueCidrs(input.affineBlocks, (text) => parseCidr(text), 'BlockAffinity', issues);
  const ownHosts = uniqueCidrs(input.borrowedHere, hostRoute, 'borrowed address', issues).filter(
    (h) => !ownBlocks.some((b) => cidrContains(b, h.network)),
  );
  const borrowedElsewhere = uniqueCidrs(input.borrowedElsewhere, hostRoute, 'borrowed address', issues);
  const policies = buildPolicies({
    ownBlocks,
    ownHosts,
    pools,
    borrowedElsewhere,
    reflectTo: selection.reflector ? selection.reflectionPeers : undefined,
    allowed: selection.allowed,
  });

  const paths: Record<IpFamily, string[]> = { 4: [], 6: [] };
  for (const c of [...ownBlocks, ...ownHosts].sort(compareCidrs)) paths[c.family].push(formatCidr(c));
  // IPv6 routes go on IPv6 sessions only: without an IPv6 BGP address there are no node sessions
  // of that family, and without any IPv6 session the node's IPv6 pods are unreachable from elsewhere.
  if (paths[6].length > 0 && !self.addresses[6] && !selection.peers.some((p) => p.families.includes(6))) {
    issues.push({
      source: `Node ${self.name}`,
      message: `IPv6 blocks are not announced: no ${NODE_BGP_ANNOTATIONS.ipv6} address`,
    });
  }

  const desired: DesiredBgp = {
    global: {
      asn: self.asn,
      routerId,
      listenPort: settings.listenPort,
      listenAddresses: listenAddresses(self.addresses[6] !== undefined),
    },
    peers: selection.peers,
    ...policies,
    paths,
    ownAddresses: [self.addresses[4], self.addresses[6]].filter((a): a is string => a !== undefined),
  };
  return { desired, issues };
}

/** The other nodes of this node's AS (issues are reported for those and for unreadable ASes only). */
function otherNodes(
  input: BgpInputs,
  self: NodeBgp,
  routerId: string,
  defaultAsn: number,
  issues: BgpIssue[],
): { node: NodeBgp; peerable: boolean }[] {
  const out: { node: NodeBgp; peerable: boolean }[] = [];
  for (const info of [...input.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (info.name === self.name) continue;
    const found: BgpIssue[] = [];
    const r = readNode(info, defaultAsn, found);
    if (r && r.node.asn !== self.asn) continue;
    issues.push(...found);
    if (!r) continue;
    const theirs = r.node.routerId ?? r.node.addresses[4];
    if (theirs === routerId) {
      issues.push({
        source: `Node ${info.name}`,
        message: `router id ${routerId} is also node ${self.name}'s (same AS ${self.asn}): sessions between them fail`,
      });
    }
    out.push(r);
  }
  return out;
}

/** The valid BGPPeers that apply to this node; problems reported only for those that might apply. */
function applyingPeers(all: Resource<BGPPeerSpec>[], self: NodeBgp, issues: BgpIssue[]): PeerSpec[] {
  const out: PeerSpec[] = [];
  for (const res of [...all].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const found: BgpIssue[] = [];
    const peer = readPeer(res, found);
    if (peer) {
      if (!peerAppliesTo(peer, self.name, self.labels)) continue;
      out.push(peer);
    } else if (!mayApply(res.spec ?? {}, self, found)) continue;
    issues.push(...found);
  }
  return out;
}

/** Whether an invalid BGPPeer might have been meant for this node (then its problems are ours). */
function mayApply(spec: Partial<BGPPeerSpec>, self: NodeBgp, found: BgpIssue[]): boolean {
  if (typeof spec.node === 'string' && spec.node !== '') return spec.node === self.name;
  if (spec.nodeSelector === undefined) return true;
  if (found.some((i) => i.message.startsWith('spec.nodeSelector'))) return true;
  try {
    return selectorMatches(spec.nodeSelector, self.labels);
  } catch {
    return true;
  }
}

function readPools(input: BgpInputs, issues: BgpIssue[]): { cidr: Cidr; blockSize: number }[] {
  const out: { cidr: Cidr; blockSize: number }[] = [];
  for (const pool of input.pools) {
    let cidr: Cidr;
    try {
      cidr = parseCidr(pool.cidr);
    } catch (e) {
      issues.push({ source: `IPPool ${pool.cidr}`, message: `spec.cidr: ${(e as Error).message}` });
      continue;
    }
    const blockSize = pool.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family];
    const max = cidr.family === 4 ? 32 : 128;
    if (!Number.isInteger(blockSize) || blockSize < cidr.prefixLength || blockSize > max) {
      issues.push({
        source: `IPPool ${pool.cidr}`,
        message: `spec.blockSize: ${blockSize} is not between the pool's prefix length and ${max}`,
      });
      continue;
    }
    out.push({ cidr, blockSize });
  }
  return out;
}

const hostRoute = (text: string): Cidr => {
  const ip = parseIp(text);
  return { family: ip.family, network: ip.address, prefixLength: ip.family === 4 ? 32 : 128 };
};

function uniqueCidrs(
  texts: string[],
  parse: (text: string) => Cidr,
  what: string,
  issues: BgpIssue[],
): Cidr[] {
  const out = new Map<string, Cidr>();
  for (const text of texts) {
    try {
      const c = parse(text);
      out.set(formatCidr(c), c);
    } catch (e) {
      issues.push({ source: `${what} ${text}`, message: (e as Error).message });
    }
  }
  return [...out.values()].sort(compareCidrs);
}

function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  const c = comparePeers({ address: a.network }, { address: b.network });
  return c || a.prefixLength - b.prefixLength;
}
