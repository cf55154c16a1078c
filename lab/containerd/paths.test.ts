import { describe, expect, it } from 'vitest';
import { readVersions } from '../control-plane/binaries.js';
import { clientToolPaths } from './paths.js';

const VERSIONS = `K8S_VERSION="\${K8S_VERSION:-v1.34.4}"
CNITOOL_VERSION="\${CNITOOL_VERSION:-v1.3.1}"
CRI_API_VERSION="\${CRI_API_VERSION:-v0.34.4}"
TABBY_CACHE_DIR="\${TABBY_CACHE_DIR:-/var/cache/tabby}"
`;

describe('cnitool / CRI proto location', () => {
  it('derives version-keyed cache paths, as scripts/versions.sh does', () => {
    const p = clientToolPaths(readVersions(VERSIONS, {}), {});
    expect(p.cnitool).toBe('/var/cache/tabby/cnitool/v1.3.1/cnitool');
    expect(p.criProto).toBe('/var/cache/tabby/cri-api/v0.34.4/api.proto');
    expect(p.pauseImageDir).toBe('/var/cache/tabby/pause-image');
  });

  it('lets the environment override', () => {
    const env = { TABBY_CACHE_DIR: '/c', CNITOOL_VERSION: 'v1.3.0', TABBY_CRI_API_DIR: '/proto' };
    const p = clientToolPaths(readVersions(VERSIONS, env), env);
    expect(p.cnitool).toBe('/c/cnitool/v1.3.0/cnitool');
    expect(p.criProto).toBe('/proto/api.proto');
  });

  it('pins a CRI API of the pinned Kubernetes minor in the real versions.sh', () => {
    const v = readVersions();
    expect(v.CNITOOL_VERSION).toMatch(/^v1\.3\.\d+$/);
    expect(v.CRI_API_VERSION?.replace(/^v0\./, '').split('.')[0]).toBe(
      v.K8S_VERSION?.replace(/^v1\./, '').split('.')[0],
    );
  });
});
