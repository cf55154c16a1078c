// kernel/: the one module that talks to the host — ip, sysctl, namespaces, processes.
// Only what is imported through this index is exported here; felix/routes imports the route
// modules (route-*.ts, routes.ts) directly.

export { isKernelErrno } from './errors.js';
export {
  ExecError,
  run,
  runInteractive,
  type StreamingChild,
  type StreamingExit,
  type StreamingOptions,
  spawnDaemon,
  spawnStreaming,
} from './exec.js';
export { ip, ipBatch, ipJson } from './ip.js';
export type { IpCommand } from './ip-commands.js';
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
  hostLink,
  listHostLinks,
  readPodInterface,
  setLinkUp,
  underlayAddress,
  underlayMtu,
} from './pod-links.js';
export { isRunning, listProcesses, type ProcessRef, refFor, terminate } from './processes.js';
export { RouteMonitor } from './route-monitor.js';
export { canonicalRoute, type KernelRoute } from './route-spec.js';
export { applyRouteBatch, listRoutes } from './routes.js';
export { readSysctl, writeSysctls } from './sysctl.js';
