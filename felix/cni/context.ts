// What every CNI verb handler works with: the agent's parts, injected (tests build their own).
import type { Ipam } from '../../ipam/ipam.js';
import type { AffineBlocks } from '../affine-blocks.js';
import type { KeyedLock } from '../keyed-lock.js';
import type { Log } from '../log.js';
import type { PodAnnotator } from '../pod-annotations.js';
import type { RouteTable } from '../routes/route-table.js';
import type { WorkloadTable } from '../workloads.js';

export interface VerbContext {
  node: string;
  interfacePrefix: string;
  /** Pod MTU when the network config does not set one. */
  mtu: number;
  routeProtocol: number;
  ipam: Ipam;
  routes: RouteTable;
  workloads: WorkloadTable;
  blocks: AffineBlocks;
  annotator: PodAnnotator;
  locks: KeyedLock;
  log: Log;
  /** Turns on IPv6 forwarding for the node (once), before the first IPv6 pod is wired. */
  ensureIpv6Forwarding(): Promise<void>;
  /** Undefined when the agent is ready for ADD; otherwise why not. */
  notReadyReason(): string | undefined;
}
