// lab/containerd: a private containerd (CRI) per test, driven like a kubelet; see containerd.ts.
export {
  type ContainerdFootprint,
  containerdLeftovers,
  newFootprint,
  SHIM_SOCKET_DIR,
  shimSocketFor,
  teardownContainerd,
} from './cleanup.js';
export {
  CNI_RESULTS_DIR,
  type CniCacheFilter,
  cacheFileMatches,
  listCniCacheFiles,
  removeCniCacheFiles,
} from './cni-cache.js';
export { linkCniPlugins, REFERENCE_PLUGIN_DIR, referencePlugins, writeCniConfig } from './cni-dirs.js';
export { type ContainerdLayout, containerdLayout, renderContainerdConfig } from './config.js';
export {
  CONTAINERD_ENV,
  type Containerd,
  type ContainerdOptions,
  cgroupParentFor,
  startContainerd,
} from './containerd.js';
export {
  type CriClient,
  CriError,
  criClient,
  type RunPodSandboxOptions,
  type RuntimeCondition,
  type RuntimeVersion,
  type SandboxState,
  type SandboxStatus,
  type SandboxSummary,
} from './cri-client.js';
export { type ClientToolPaths, clientToolPaths, cnitoolPath, criProtoPath } from './paths.js';
export {
  ensurePauseImage,
  PAUSE_APPLETS,
  PAUSE_IMAGE,
  type PauseImage,
  pauseImageTar,
} from './pause-image.js';
