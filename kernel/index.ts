// kernel/: the one module that talks to the host — ip, sysctl, namespaces, processes.

export { isKernelErrno, type KernelErrno, KernelError } from './errors.js';
export {
  ExecError,
  run,
  runInteractive,
  type StreamingChild,
  type StreamingExit,
  spawnDaemon,
  spawnStreaming,
} from './exec.js';
export { ip, ipBatch, ipInPath, ipJson } from './ip.js';
export { type IpCommand, ipToken, renderIpBatch, renderIpCommand } from './ip-commands.js';
export {
  type AddrInfo,
  createVethPair,
  type LinkInfo,
  listAddresses,
  listLinks,
  type VethEnd,
} from './links.js';
export { addNetns, deleteNetns, listNetns, netnsExists, netnsPids, runInNetns, setSysctls } from './netns.js';
export {
  configurePodInterface,
  createPodVeth,
  deleteLink,
  type HostLink,
  hostLink,
  listHostLinks,
  type PodAddress,
  type PodInterfaceState,
  type PodVethSpec,
  readPodInterface,
  setLinkAlias,
  setLinkUp,
  underlayMtu,
} from './pod-links.js';
export { isRunning, type ProcessRef, processStartTime, refFor, terminate } from './processes.js';
export type { RouteOp, RouteOpFailure, RouteOpKind, RouteOpResult } from './route-batch.js';
export {
  groupMonitorLines,
  parseRouteEvent,
  type RouteEvent,
  RouteMonitor,
  type RouteMonitorOptions,
} from './route-monitor.js';
export {
  canonicalPrefix,
  canonicalRoute,
  defaultMetric,
  type KernelRoute,
  type KernelRouteType,
  MAIN_TABLE,
  type Nexthop,
  type RouteScope,
  type RouteSpec,
  RouteSpecError,
  type RouteType,
} from './route-spec.js';
export { applyRouteBatch, listRoutes } from './routes.js';
export { readSysctl, writeSysctls } from './sysctl.js';
