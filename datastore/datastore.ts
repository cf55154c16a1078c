// The one interface tabby uses for cluster state. Two implementations share its semantics:
// kubernetes.ts (CRDs through the API server) and memory.ts (unit tests).
import type {
  BGPConfigurationSpec,
  BGPPeerSpec,
  BlockAffinitySpec,
  CollectionName,
  IPAMBlockSpec,
  IPAMConfigSpec,
  IPAMHandleSpec,
  IPPoolSpec,
  NodeInfo,
  ObjectMeta,
  PodInfo,
  Resource,
} from './resources.js';

export interface ListResult<S> {
  items: Resource<S>[];
  /** Version of the collection at list time: a watch from here misses nothing. */
  resourceVersion: string;
}

export interface ListOptions {
  cached?: boolean;
}

export interface WatchEvent<S> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Resource<S>;
}

export interface WatchOptions {
  /** Start after this collection version (from `list`); absent starts from now. */
  resourceVersion?: string;
  labels?: Record<string, string>;
}

/** A change of one Node (`watchNodes`); DELETED carries the Node's last state. */
export interface NodeWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: NodeInfo;
}

/**
 * A running watch. It can end by itself at any time: a Conflict (HTTP 410, "too old resource
 * version": etcd compacted, or a CRD changed) means the caller must list again and watch from
 * the new list's resourceVersion. An `onEvent` that throws ends the watch with that error.
 */
export interface Watch {
  /** Ends the watch; no event is delivered after it resolves. */
  stop(): Promise<void>;
  /** Resolves when the watch ends, with the error that ended it (undefined after `stop`). */
  readonly done: Promise<Error | undefined>;
}

export interface Preconditions {
  resourceVersion?: string;
  uid?: string;
}

/** The object to create: metadata without the store-assigned fields. */
export interface NewResource<S> {
  metadata: Pick<ObjectMeta, 'name' | 'labels' | 'annotations'>;
  spec: S;
}

/**
 * One collection of one resource kind. Every write is conditional:
 * - `create` fails with AlreadyExists when the name is taken;
 * - `update` requires `metadata.resourceVersion` and fails with Conflict when the stored object
 *   has moved on (NotFound when it is gone);
 * - `delete` with preconditions fails with Conflict when they no longer hold.
 * Returned objects carry the new resourceVersion. Errors are `DatastoreError`s.
 */
export interface ResourceStore<S> {
  readonly kind: string;
  /** The object, or undefined when there is none. */
  get(name: string): Promise<Resource<S> | undefined>;
  /**
   * All objects, or those carrying every label in `labels`. With `cached`, the answer may be a
   * little stale (Kubernetes: resourceVersion "0", served from the API server's watch cache
   * without waiting for it to catch up with etcd — a consistent list can wait tens of ms).
   */
  list(labels?: Record<string, string>, options?: ListOptions): Promise<ListResult<S>>;
  create(obj: NewResource<S>): Promise<Resource<S>>;
  /** Replaces the whole object, metadata included: pass back what `get` returned, modified. */
  update(obj: Resource<S>): Promise<Resource<S>>;
  /** Throws NotFound when there is nothing to delete. */
  delete(name: string, preconditions?: Preconditions): Promise<void>;
  watch(onEvent: (event: WatchEvent<S>) => void, options?: WatchOptions): Promise<Watch>;
}

/** One store per resource kind. */
export interface Collections {
  readonly ipPools: ResourceStore<IPPoolSpec>;
  readonly ipamBlocks: ResourceStore<IPAMBlockSpec>;
  readonly blockAffinities: ResourceStore<BlockAffinitySpec>;
  readonly ipamHandles: ResourceStore<IPAMHandleSpec>;
  readonly ipamConfigs: ResourceStore<IPAMConfigSpec>;
  readonly bgpConfigurations: ResourceStore<BGPConfigurationSpec>;
  readonly bgpPeers: ResourceStore<BGPPeerSpec>;
}

/** Builds every collection with `make` (each implementation supplies its store). */
export function collections(make: <S>(name: CollectionName) => ResourceStore<S>): Collections {
  return {
    ipPools: make('ipPools'),
    ipamBlocks: make('ipamBlocks'),
    blockAffinities: make('blockAffinities'),
    ipamHandles: make('ipamHandles'),
    ipamConfigs: make('ipamConfigs'),
    bgpConfigurations: make('bgpConfigurations'),
    bgpPeers: make('bgpPeers'),
  };
}

export interface Datastore extends Collections {
  /** Labels of a Kubernetes node; undefined when the node does not exist. */
  nodeLabels(node: string): Promise<Record<string, string> | undefined>;
  /** Every Pod of the cluster (leak GC's view of what is alive). */
  listPods(): Promise<PodInfo[]>;
  /** One Pod, or undefined when there is none. */
  getPod(namespace: string, name: string): Promise<PodInfo | undefined>;
  /** Names of every Node. */
  listNodes(): Promise<string[]>;
  /** Every Node's labels, annotations and addresses (a consistent read, never a cached one). */
  listNodeInfos(): Promise<NodeInfo[]>;
  /**
   * Node changes from now on (ADDED / MODIFIED / DELETED), with the contract of
   * `ResourceStore.watch`. To follow every Node: open the watch first, then `listNodeInfos`, and
   * apply the events received meanwhile after the list, in order.
   */
  watchNodes(onEvent: (event: NodeWatchEvent) => void): Promise<Watch>;
  /**
   * Merges annotations into a Node (a null value removes the key). Returns false when the Node
   * does not exist.
   */
  annotateNode(name: string, annotations: Record<string, string | null>): Promise<boolean>;
  /** One key of a Secret (decoded); undefined when the Secret or the key does not exist. */
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  /**
   * Merges annotations into a Pod (a null value removes the key). Returns false when the Pod does
   * not exist (or, with `uid`, is another incarnation of that name): nothing to record on.
   */
  annotatePod(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
    uid?: string,
  ): Promise<boolean>;
  /** Releases connections and stops watches this store opened. */
  close(): Promise<void>;
}
