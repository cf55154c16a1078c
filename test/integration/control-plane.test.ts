// The local control plane: a real kube-apiserver + etcd serving CRDs and custom objects through
// @kubernetes/client-node, with RBAC on; `down` leaves no process and no data directory.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { isRunning } from '../../kernel/index.js';
import {
  CONTROL_PLANE_DIR,
  controlPlaneDown,
  controlPlaneUp,
  installCrds,
  readCrdDir,
} from '../../lab/control-plane/index.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const widget = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'test.tabby.dev/v1',
  kind: 'Widget',
  metadata: { name },
  spec,
});

describe.skipIf(!isRoot)(`local control plane (${ROOT_REASON})`, () => {
  const kubeconfig = inject('kubeconfig');
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);

  it('serves the pinned Kubernetes version', async () => {
    const v = await kc.makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toMatch(/^v1\.34\./);
  });

  it('installs a CRD (idempotently) and stores and validates custom objects', async () => {
    const crds = readCrdDir(FIXTURES);
    expect(crds.map((c) => c.metadata?.name)).toEqual(['widgets.test.tabby.dev']);
    await installCrds(kubeconfig, crds);
    await installCrds(kubeconfig, crds); // second install replaces, does not fail
    const api = kc.makeApiClient(CustomObjectsApi);
    const name = uniqueName('w');
    const ref = { group: 'test.tabby.dev', version: 'v1', plural: 'widgets' };
    await api.createClusterCustomObject({ ...ref, body: widget(name, { cidr: '10.244.0.0/26', size: 3 }) });
    const got = (await api.getClusterCustomObject({ ...ref, name })) as { spec: { cidr: string } };
    expect(got.spec.cidr).toBe('10.244.0.0/26');
    // The API server itself enforces the schema.
    await expect(
      api.createClusterCustomObject({
        ...ref,
        body: widget(uniqueName('bad'), { cidr: 'not-a-cidr', size: -1 }),
      }),
    ).rejects.toMatchObject({ code: 422 });
    await api.deleteClusterCustomObject({ ...ref, name });
  });

  it('has RBAC on: an unauthenticated client is refused', async () => {
    const anon = new KubeConfig();
    anon.loadFromOptions({
      clusters: [
        { name: 'c', server: kc.getCurrentCluster()?.server ?? '', caFile: kc.getCurrentCluster()?.caFile },
      ],
      users: [{ name: 'anon' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'anon' }],
      currentContext: 'c',
    });
    await expect(
      anon
        .makeApiClient(CustomObjectsApi)
        .listClusterCustomObject({ group: 'test.tabby.dev', version: 'v1', plural: 'widgets' }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('up is idempotent and down leaves no process, data dir or state file', async () => {
    const name = uniqueName('cp');
    const cp = await controlPlaneUp({ name, crdDir: FIXTURES });
    try {
      expect((await controlPlaneUp({ name })).processes).toEqual(cp.processes); // same instance
      expect(cp.processes.map((p) => p.name)).toEqual(['etcd', 'kube-apiserver', 'api-bridge']);
      expect(cp.processes.every(isRunning)).toBe(true);
      expect(existsSync(cp.dir)).toBe(true);
    } finally {
      expect(await controlPlaneDown(name)).toBe(true);
    }
    expect(cp.processes.some(isRunning)).toBe(false);
    expect(existsSync(cp.dir)).toBe(false);
    expect(existsSync(`${CONTROL_PLANE_DIR}/${name}.json`)).toBe(false);
    expect(await controlPlaneDown(name)).toBe(false);
  });
});
