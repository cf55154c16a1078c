// The import surface of ipam/.
export { type CheckReport, checkIpam, type Problem, type ProblemKind } from './check.js';
export {
  DEFAULT_COOLDOWN_SECONDS,
  DEFAULT_MAX_BLOCKS_PER_NODE,
  type IpamSettings,
  ipamSettings,
} from './config.js';
export { IpamError, type IpamErrorReason, isIpamError } from './errors.js';
export { DEFAULT_LEAK_GRACE_MS, type GcOptions, type GcReport, LeakCollector, type Liveness } from './gc.js';
export { Ipam, type IpamOptions } from './ipam.js';
export { allocationAlive, podLiveness } from './pod-liveness.js';
export {
  DEFAULT_BLOCK_SIZE,
  type Pool,
  type PoolOverlap,
  partitionPools,
  readPools,
  toPool,
  usablePools,
} from './pools.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { type IpamSnapshot, readSnapshot, snapshotWithin } from './snapshot.js';
export type { AssignedAddress, AssignOptions, AssignResult, ReleaseResult } from './types.js';
