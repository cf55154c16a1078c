// kernel/: the one module that talks to the host — ip, sysctl, namespaces, processes.

export { isKernelErrno, type KernelErrno, KernelError } from './errors.js';
export { ExecError, run, runInteractive, spawnDaemon } from './exec.js';
export { ip, ipBatch, ipJson } from './ip.js';
export { type IpCommand, renderIpBatch, renderIpCommand } from './ip-commands.js';
export {
  type AddrInfo,
  createVethPair,
  type LinkInfo,
  listAddresses,
  listLinks,
  type VethEnd,
} from './links.js';
export { addNetns, deleteNetns, listNetns, netnsExists, netnsPids, runInNetns, setSysctls } from './netns.js';
export { isRunning, type ProcessRef, processStartTime, refFor, terminate } from './processes.js';
