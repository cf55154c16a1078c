// lab/containerd: a private containerd (CRI) per test, driven like a kubelet; see containerd.ts.
export { listCniCacheFiles, removeCniCacheFiles } from './cni-cache.js';
export { linkCniPlugins, REFERENCE_PLUGIN_DIR, referencePlugins, writeCniConfig } from './cni-dirs.js';
export { type Containerd, startContainerd } from './containerd.js';
