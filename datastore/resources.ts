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

export type IPPool = Resource<IPPoolSpec>;
export type IPAMBlock = Resource<IPAMBlockSpec>;
export type BlockAffinity = Resource<BlockAffinitySpec>;
export type IPAMHandle = Resource<IPAMHandleSpec>;
export type IPAMConfig = Resource<IPAMConfigSpec>;

export const IPAM_CONFIG_NAME = 'default';

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

/** Kind and plural of each resource, as served by the API server. */
export const KINDS = {
  ipPools: { kind: 'IPPool', plural: 'ippools' },
  ipamBlocks: { kind: 'IPAMBlock', plural: 'ipamblocks' },
  blockAffinities: { kind: 'BlockAffinity', plural: 'blockaffinities' },
  ipamHandles: { kind: 'IPAMHandle', plural: 'ipamhandles' },
  ipamConfigs: { kind: 'IPAMConfig', plural: 'ipamconfigs' },
} as const;

export type CollectionName = keyof typeof KINDS;
