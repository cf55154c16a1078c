// A validated lab topology: what the netns runner (and `lab render`) works from.
import type { InterfaceAddress } from '../../common/addr.js';

export type LabRole = 'router' | 'node';

/** Labels (containerlab ignores them; they become container labels there) that carry tabby's settings. */
export const LABEL = {
  /** Node: `router` (FRR: zebra + bgpd) or `node` (a Kubernetes server). Default `node`. */
  role: 'tabby.dev/role',
  /** Node: BGP AS number. Required for routers. */
  asn: 'tabby.dev/asn',
  /** Node: BGP router id (IPv4). Default: the first IPv4 loopback. */
  routerId: 'tabby.dev/router-id',
  /** Node: comma-separated loopback addresses, e.g. `198.18.255.1/32`. */
  loopback: 'tabby.dev/loopback',
  /** Node: IPv4 default gateway. Default for `node`s: the peer's address on the first IPv4 link. */
  gateway4: 'tabby.dev/gateway4',
  /** Node: IPv6 default gateway. Default for `node`s: the peer's address on the first IPv6 link. */
  gateway6: 'tabby.dev/gateway6',
  /** Link: IPv4 subnet of the link; the first endpoint takes the first address, the second the next. */
  linkIpv4: 'tabby.dev/ipv4',
  /** Link: IPv6 subnet of the link, same rule. */
  linkIpv6: 'tabby.dev/ipv6',
} as const;

export interface LabInterface {
  name: string;
  peerNode: string;
  peerInterface: string;
  addresses: InterfaceAddress[];
  /** The addresses of the other end of the link. */
  peerAddresses: InterfaceAddress[];
  mtu?: number;
}

export interface LabNode {
  name: string;
  /** containerlab kind (only `linux` is realized by the netns runner). */
  kind: string;
  image?: string;
  role: LabRole;
  asn?: number;
  routerId?: string;
  loopbacks: InterfaceAddress[];
  gateway4?: string;
  gateway6?: string;
  /** In link order. */
  interfaces: LabInterface[];
}

export interface LabEndpoint {
  node: string;
  interface: string;
  addresses: InterfaceAddress[];
}

export interface LabLink {
  a: LabEndpoint;
  b: LabEndpoint;
  mtu?: number;
}

export interface Topology {
  name: string;
  /** Sorted by name. */
  nodes: LabNode[];
  links: LabLink[];
}

export interface TopologyIssue {
  /** Where in the file, e.g. `topology.links[2].endpoints[1]`. */
  path: string;
  message: string;
}

export class TopologyError extends Error {
  readonly code = 'TABBY_TOPOLOGY';
  constructor(
    readonly source: string,
    readonly issues: TopologyIssue[],
  ) {
    super(`${source}: invalid topology:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'TopologyError';
  }
}
