// The shapes of tabby's cluster-state resources (group tabby.dev, version v1alpha1), exactly as
// stored: the CRDs in deploy/crds validate these same fields. All resources are cluster-scoped.

export const GROUP = 'tabby.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Label on blocks, affinities and handle shards naming the node (see `nodeLabelValue`). */
export const NODE_LABEL = 'tabby.dev/node';

export interface ObjectMeta {
  name: string;
  /** Opaque version for compare-and-swap; set by the store, required by `update`. */
  resourceVersion?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

export interface Resource<S> {
  metadata: ObjectMeta;
  spec: S;
}

/** Kubernetes label selector (the subset tabby evaluates: matchLabels + matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

export interface IPPoolSpec {
  /** Network address + prefix, e.g. 10.244.0.0/16 or fd00:10:244::/56. Immutable. */
  cidr: string;
  /** Prefix length of the pool's blocks; 26 for IPv4 and 122 for IPv6 when absent. Immutable. */
  blockSize?: number;
  /** Nodes that may claim blocks from this pool; absent selects every node. */
  nodeSelector?: LabelSelector;
  /** No new blocks are claimed and no new addresses given from a disabled pool. */
  disabled?: boolean;
}

/** Who holds one address of a block. */
export interface AllocationAttributes {
  handle: string;
  namespace?: string;
  pod?: string;
  /** Node that asked for the address (differs from the block's affinity when borrowed). */
  node?: string;
  /** Block sequence number when this address was given: a release naming a stale one is refused. */
  sequence: number;
}

/** A free ordinal; `releasedAt` (RFC 3339) holds it back from reuse for the cooldown. */
export interface FreeOrdinal {
  ordinal: number;
  releasedAt?: string;
}

export interface IPAMBlockSpec {
  cidr: string;
  /** Node the block is affine to; absent when the block has no owner. */
  affinity?: string;
  /** One entry per address of the block: index into `attributes`, or null when free. */
  allocations: (number | null)[];
  attributes: AllocationAttributes[];
  /** Free ordinals in the order they are handed out (FIFO: released ones go to the back). */
  free: FreeOrdinal[];
  /** Incremented on every change of the block. */
  sequence: number;
}

export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

/** Claim of one block by one node. Named after the block, so one block has one affinity. */
export interface BlockAffinitySpec {
  node: string;
  cidr: string;
  state: AffinityState;
}

export interface HandleEntry {
  /** Block CIDR → number of addresses this handle holds there. */
  blocks: Record<string, number>;
}

/**
 * Handle index of one node (named after the node): every handle allocated by that node →
 * where its addresses are. One object per node, not per pod, so a burst of allocations on a
 * node costs one write here instead of one per pod.
 */
export interface IPAMHandleSpec {
  node: string;
  handles: Record<string, HandleEntry>;
}

/** Cluster-wide IPAM settings: the single object named `default`. */
export interface IPAMConfigSpec {
  /** Never borrow addresses from another node's block. Default false. */
  strictAffinity?: boolean;
  /** Most blocks of one IP family one node may claim; 0 means no limit. Default 20. */
  maxBlocksPerNode?: number;
  /** Seconds a released address stays unused. Default 30. */
  cooldownSeconds?: number;
}

/** A key of a Secret (BGP passwords). The agent may read Secrets only where RBAC lets it: tabby-system. */
export interface SecretKeyRef {
  namespace: string;
  name: string;
  key: string;
}

/** Cluster-wide BGP settings: the object named `default` applies (see `BGP_CONFIGURATION_NAME`). */
export interface BGPConfigurationSpec {
  /** AS of nodes without a `tabby.dev/bgp-asn` annotation. Default 64512. */
  asNumber?: number;
  /** Full iBGP mesh among the nodes of one AS (when none of them is a route reflector). Default true. */
  nodeToNodeMeshEnabled?: boolean;
  /** TCP port gobgpd listens on. Default 179. */
  listenPort?: number;
  /** Graceful restart time in seconds (0-4095) for every session; 0 turns graceful restart off. Default 120. */
  gracefulRestartTime?: number;
  /** Seconds. Default 30. */
  keepaliveTime?: number;
  /** Seconds, 3-65535 (not 0: gobgpd would turn it into 90). Default 90. */
  holdTime?: number;
  /** Seconds between connection attempts. Default 5. */
  connectRetryTime?: number;
  /** TCP MD5 password of the node-to-node sessions (mesh and route reflection). */
  meshPassword?: SecretKeyRef;
}

/**
 * A BGP neighbor outside the node mesh (a ToR, a route reflector, an external router). Applies to
 * the node named `node`, to the nodes `nodeSelector` selects, or (neither set) to every node.
 */
export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: LabelSelector;
  /** IPv4 or IPv6 address; the session carries that family only. */
  peerIP: string;
  asNumber: number;
  /** Remote TCP port. Default 179. */
  port?: number;
  /** TCP MD5 password. The peer is not configured at all while the Secret cannot be read. */
  password?: SecretKeyRef;
  /** Seconds; default: the BGPConfiguration's. */
  keepaliveTime?: number;
  /** Seconds, 3-65535; default: the BGPConfiguration's. */
  holdTime?: number;
  /** Default: on when the BGPConfiguration's gracefulRestartTime is above 0. */
  gracefulRestart?: boolean;
  /** eBGP multihop TTL (2-255); absent: directly connected (TTL 1). */
  ebgpMultihop?: number;
  /** Most prefixes accepted from this peer; beyond it the session shuts down. */
  maxPrefixes?: number;
  /** CIDRs outside the pools this peer may send (any longer prefix within them too). */
  allowedPrefixes?: string[];
  /** The node's source address for this session; default: the kernel chooses. */
  sourceAddress?: string;
  /** Only accept connections from the peer, never dial. */
  passive?: boolean;
}

export type IPPool = Resource<IPPoolSpec>;
export type IPAMBlock = Resource<IPAMBlockSpec>;
export type BlockAffinity = Resource<BlockAffinitySpec>;
export type IPAMHandle = Resource<IPAMHandleSpec>;
export type IPAMConfig = Resource<IPAMConfigSpec>;

export type BGPConfiguration = Resource<BGPConfigurationSpec>;
export type BGPPeer = Resource<BGPPeerSpec>;

export const IPAM_CONFIG_NAME = 'default';
/** The BGPConfiguration that applies (the API server accepts no other name). */
export const BGP_CONFIGURATION_NAME = 'default';

/**
 * Node annotations holding a node's BGP settings (see deploy/README.md). The agent writes the
 * address ones at start; an operator sets the others.
 */
export const NODE_BGP_ANNOTATIONS = {
  /** This node's AS, overriding the BGPConfiguration's (AS per rack, AS per server). */
  asn: 'tabby.dev/bgp-asn',
  /** Router id (dotted quad); default: the node's IPv4 BGP address. */
  routerId: 'tabby.dev/bgp-router-id',
  /** Cluster id (dotted quad): this node is a route reflector. */
  routeReflectorClusterId: 'tabby.dev/route-reflector-cluster-id',
  /** The address this node peers from (other nodes mesh with it). */
  ipv4: 'tabby.dev/bgp-ipv4',
  ipv6: 'tabby.dev/bgp-ipv6',
} as const;

/** Pod annotation the agent writes: the pod's addresses, comma-separated (leak GC reads it). */
export const POD_IPS_ANNOTATION = 'tabby.dev/pod-ips';

/** What tabby reads of a Kubernetes Pod. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  /** spec.nodeName; undefined while unscheduled. */
  node?: string;
  annotations: Record<string, string>;
}

/** One address of a Node (status.addresses): type InternalIP, ExternalIP, Hostname, ... */
export interface NodeAddress {
  type: string;
  address: string;
}

/** What tabby reads of a Kubernetes Node. */
export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  addresses: NodeAddress[];
}

/** Kind and plural of each resource, as served by the API server. */
export const KINDS = {
  ipPools: { kind: 'IPPool', plural: 'ippools' },
  ipamBlocks: { kind: 'IPAMBlock', plural: 'ipamblocks' },
  blockAffinities: { kind: 'BlockAffinity', plural: 'blockaffinities' },
  ipamHandles: { kind: 'IPAMHandle', plural: 'ipamhandles' },
  ipamConfigs: { kind: 'IPAMConfig', plural: 'ipamconfigs' },
  bgpConfigurations: { kind: 'BGPConfiguration', plural: 'bgpconfigurations' },
  bgpPeers: { kind: 'BGPPeer', plural: 'bgppeers' },
} as const;

export type CollectionName = keyof typeof KINDS;
