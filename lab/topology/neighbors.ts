// Who is one hop away from whom, and which BGP sessions a router has. Pure.
//   - a point-to-point link joins its two ends;
//   - a `kind: bridge` node is a LAN: every member (non-bridge endpoint of a link to it, or to a
//     bridge linked to it) reaches every other member on the same subnet.
// A router has one BGP session per directly reachable peer that has an AS number, per address
// family both are addressed in: other routers, and servers that carry `tabby.dev/asn`.
import { cidrContains, cidrOf, type IpFamily } from '../../common/addr.js';
import type { LabEndpoint, LabNode, LabRole, Topology } from './types.js';

type Graph = Pick<Topology, 'nodes' | 'links'>;

export interface DirectPeer {
  family: IpFamily;
  /** Our interface toward the peer. */
  interface: string;
  /** Our address there. */
  localAddress: string;
  peerNode: string;
  /** The peer's address. */
  address: string;
  /** The bridge, when the peer is reached over a LAN. */
  bridge?: string;
}

export interface BgpNeighbor {
  family: IpFamily;
  address: string;
  /** Our address on the shared link (the session's source). */
  localAddress: string;
  remoteAs: number;
  peerNode: string;
  /** `router` (must come up with the lab) or `node` (comes up once tabby runs there). */
  peerRole: LabRole;
  interface: string;
  /** TCP MD5 password: ours or the peer's (validation makes sure they do not differ). */
  password?: string;
}

/** Each bridge's LAN segment (bridges linked to each other form one), named by its first bridge. */
export function bridgeSegments(t: Graph): Map<string, string> {
  const bridges = new Set(t.nodes.filter((n) => n.kind === 'bridge').map((n) => n.name));
  const segment = new Map<string, string>();
  for (const start of [...bridges].sort()) {
    if (segment.has(start)) continue;
    const queue = [start];
    segment.set(start, start);
    for (let b = queue.shift(); b !== undefined; b = queue.shift()) {
      for (const l of t.links) {
        const other = l.a.node === b ? l.b.node : l.b.node === b ? l.a.node : undefined;
        if (other === undefined || !bridges.has(other) || segment.has(other)) continue;
        segment.set(other, start);
        queue.push(other);
      }
    }
  }
  return segment;
}

/** Members of each LAN segment: the non-bridge endpoints of links to one of its bridges. */
function segmentMembers(t: Graph, segments: Map<string, string>): Map<string, LabEndpoint[]> {
  const members = new Map<string, LabEndpoint[]>();
  for (const l of t.links) {
    for (const [self, other] of [
      [l.a, l.b],
      [l.b, l.a],
    ] as const) {
      const seg = segments.get(other.node);
      if (seg === undefined || segments.has(self.node)) continue;
      members.set(seg, [...(members.get(seg) ?? []), self]);
    }
  }
  return members;
}

export function directPeers(t: Graph, node: LabNode): DirectPeer[] {
  const segments = bridgeSegments(t);
  const members = segmentMembers(t, segments);
  const out: DirectPeer[] = [];
  for (const iface of node.interfaces) {
    const seg = segments.get(iface.peerNode);
    for (const mine of iface.addresses) {
      const base = { family: mine.family, interface: iface.name, localAddress: mine.address };
      if (seg === undefined) {
        const theirs = iface.peerAddresses.find((a) => a.family === mine.family);
        if (theirs) out.push({ ...base, peerNode: iface.peerNode, address: theirs.address });
        continue;
      }
      const subnet = cidrOf(mine);
      for (const m of members.get(seg) ?? []) {
        if (m.node === node.name) continue;
        for (const theirs of m.addresses) {
          if (theirs.family !== mine.family || !cidrContains(subnet, theirs.address)) continue;
          out.push({ ...base, peerNode: m.node, address: theirs.address, bridge: iface.peerNode });
        }
      }
    }
  }
  return out;
}

export function bgpNeighbors(t: Graph, node: LabNode): BgpNeighbor[] {
  const byName = new Map(t.nodes.map((n) => [n.name, n]));
  const out: BgpNeighbor[] = [];
  for (const p of directPeers(t, node)) {
    const peer = byName.get(p.peerNode);
    if (!peer?.asn) continue;
    out.push({
      family: p.family,
      address: p.address,
      localAddress: p.localAddress,
      remoteAs: peer.asn,
      peerNode: peer.name,
      peerRole: peer.role,
      interface: p.interface,
      password: node.password ?? peer.password,
    });
  }
  return out;
}
