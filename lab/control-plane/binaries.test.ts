import { describe, expect, it } from 'vitest';
import { readVersions } from './binaries.js';
import { renderKubeconfig } from './kubeconfig.js';

const VERSIONS = `K8S_VERSION="\${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="\${ETCD_VERSION:-v3.6.16}"
TABBY_CACHE_DIR="\${TABBY_CACHE_DIR:-/var/cache/tabby}"
TABBY_CP_BIN_DIR="$TABBY_CACHE_DIR/control-plane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
`;

describe('control plane binaries location', () => {
  it('reads pinned versions and derives the version-keyed cache dir, as the shell does', () => {
    const v = readVersions(VERSIONS, {});
    expect(v.K8S_VERSION).toBe('v1.34.4');
    expect(v.TABBY_CP_BIN_DIR).toBe('/var/cache/tabby/control-plane/k8s-v1.34.4-etcd-v3.6.16');
  });
  it('lets the environment override, as the shell does', () => {
    const v = readVersions(VERSIONS, { TABBY_CACHE_DIR: '/tmp/c', ETCD_VERSION: 'v3.6.9' });
    expect(v.TABBY_CP_BIN_DIR).toBe('/tmp/c/control-plane/k8s-v1.34.4-etcd-v3.6.9');
    expect(readVersions(VERSIONS, { TABBY_CP_BIN_DIR: '/opt/cp' }).TABBY_CP_BIN_DIR).toBe('/opt/cp');
  });
  it('reads the real versions.sh', () => {
    expect(readVersions().K8S_VERSION).toMatch(/^v1\.34\.\d+$/);
  });
});

describe('kubeconfig', () => {
  it('points at the server with the CA and the admin token', () => {
    const k = renderKubeconfig({ server: 'https://127.0.0.1:6443', caFile: '/x/ca.crt', token: 't0k' });
    expect(k).toContain('server: https://127.0.0.1:6443');
    expect(k).toContain('certificate-authority: /x/ca.crt');
    expect(k).toContain('token: t0k');
    expect(k).toContain('current-context: tabby-lab');
  });
});
