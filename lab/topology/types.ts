// A validated lab topology: what the netns runner (and `lab render`) works from.
import type { InterfaceAddress } from '../../common/addr.js';

/** `router` and `node` come from `tabby.dev/role`; `bridge` from `kind: bridge` (a LAN). */
export type LabRole = 'router' | 'node' | 'bridge';

/** The BGP daemon a router runs. */
export type BgpDaemon = 'frr' | 'bird';

/** Labels (containerlab ignores them; they become container labels there) that carry tabby's settings. */
export const LABEL = {
  /** Node: `router` (FRR or BIRD) or `node` (a Kubernetes server). Default `node`. */
  role: 'tabby.dev/role',
  /**
   * Node: BGP AS number. Required for routers. On a server, its routers (those directly linked,
   * or on the same bridge) get a BGP session to it, which comes up once tabby runs there.
   */
  asn: 'tabby.dev/asn',
  /** Router: `frr` (zebra + bgpd; the default) or `bird` (BIRD 2). */
  bgpDaemon: 'tabby.dev/bgp-daemon',
  /**
   * Node: TCP MD5 password of every BGP session with this node; routers configure it on their
   * side (the cluster harness hands it to tabby through the BGPPeer's secret).
   */
  bgpPassword: 'tabby.dev/bgp-password',
  /** Node: BGP router id (IPv4). Default: the first IPv4 loopback. */
  routerId: 'tabby.dev/router-id',
  /** Node: comma-separated loopback addresses, e.g. `198.18.255.1/32`. */
  loopback: 'tabby.dev/loopback',
  /**
   * Node: IPv4 default gateway. Default for `node`s: the peer's address on the first IPv4 link
   * (on a LAN: the one router on its subnet).
   */
  gateway4: 'tabby.dev/gateway4',
  /** Node: IPv6 default gateway. Default for `node`s: the peer's address on the first IPv6 link. */
  gateway6: 'tabby.dev/gateway6',
  /**
   * Link: IPv4 subnet of the link; the first endpoint takes the first address, the second the
   * next. On a link to a `kind: bridge` node: the address of the other endpoint with its LAN's
   * prefix length instead (`198.18.3.11/24`); the bridge end takes none.
   */
  linkIpv4: 'tabby.dev/ipv4',
  /** Link: IPv6 subnet of the link, same rules. */
  linkIpv6: 'tabby.dev/ipv6',
} as const;

/** The Linux bridge inside a `kind: bridge` node's namespace; its link ends are enslaved to it. */
export const BRIDGE_DEVICE = 'br0';

export interface LabInterface {
  name: string;
  /** The node at the other end of the link (for a LAN member: the bridge). */
  peerNode: string;
  peerInterface: string;
  addresses: InterfaceAddress[];
  /** The addresses of the other end of the link (none when it is a bridge). */
  peerAddresses: InterfaceAddress[];
  mtu?: number;
}

export interface LabNode {
  name: string;
  /** containerlab kind: `linux`, or `bridge` (a namespace holding a Linux bridge). */
  kind: string;
  image?: string;
  role: LabRole;
  asn?: number;
  /** Routers: the BGP daemon. */
  daemon?: BgpDaemon;
  /** TCP MD5 password of BGP sessions with this node. */
  password?: string;
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
