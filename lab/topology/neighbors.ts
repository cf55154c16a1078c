// Which BGP sessions a router has: one per directly linked peer that has an AS number,
// per address family both ends of the link are addressed in. Pure.
import type { IpFamily } from '../../common/addr.js';
import type { LabNode, Topology } from './types.js';

export interface BgpNeighbor {
  family: IpFamily;
  address: string;
  /** Our address on the shared link (the session's source). */
  localAddress: string;
  remoteAs: number;
  peerNode: string;
  interface: string;
}

export function bgpNeighbors(topology: Topology, node: LabNode): BgpNeighbor[] {
  const byName = new Map(topology.nodes.map((n) => [n.name, n]));
  const out: BgpNeighbor[] = [];
  for (const iface of node.interfaces) {
    const peer = byName.get(iface.peerNode);
    if (!peer?.asn) continue;
    for (const mine of iface.addresses) {
      const theirs = iface.peerAddresses.find((a) => a.family === mine.family);
      if (!theirs) continue;
      out.push({
        family: mine.family,
        address: theirs.address,
        localAddress: mine.address,
        remoteAs: peer.asn,
        peerNode: peer.name,
        interface: iface.name,
      });
    }
  }
  return out;
}
