// datastore/: cluster state behind one interface (datastore.ts), on the Kubernetes API server
// (kubernetes.ts) or in memory (memory.ts). This file is the import surface.

export {
  type CountingDatastore,
  countingDatastore,
  type WriteCounts,
} from './counting.js';
export type {
  Datastore,
  ListResult,
  NewResource,
  NodeWatchEvent,
  Preconditions,
  ResourceStore,
  Watch,
  WatchEvent,
  WatchOptions,
} from './datastore.js';
export { DatastoreError, type DatastoreErrorReason, isDatastoreError } from './errors.js';
export { type KubernetesDatastoreOptions, kubernetesDatastore } from './kubernetes.js';
export { type BeforeWrite, type MemoryDatastore, memoryDatastore, type WriteOp } from './memory.js';
export { cidrResourceName, nodeLabelValue } from './names.js';
export {
  type AffinityState,
  type AllocationAttributes,
  API_VERSION,
  BGP_CONFIGURATION_NAME,
  type BGPConfiguration,
  type BGPConfigurationSpec,
  type BGPPeer,
  type BGPPeerSpec,
  type BlockAffinity,
  type BlockAffinitySpec,
  type CollectionName,
  type FreeOrdinal,
  GROUP,
  type HandleEntry,
  IPAM_CONFIG_NAME,
  type IPAMBlock,
  type IPAMBlockSpec,
  type IPAMConfig,
  type IPAMConfigSpec,
  type IPAMHandle,
  type IPAMHandleSpec,
  type IPPool,
  type IPPoolSpec,
  KINDS,
  type LabelSelector,
  NODE_BGP_ANNOTATIONS,
  NODE_LABEL,
  type NodeAddress,
  type NodeInfo,
  type ObjectMeta,
  POD_IPS_ANNOTATION,
  type PodInfo,
  type Resource,
  type SecretKeyRef,
  VERSION,
} from './resources.js';
