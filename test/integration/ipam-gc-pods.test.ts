// Leak GC with Kubernetes as the liveness source (`tabby ipam gc`): allocations whose pod is
// gone, moved to another node or replaced by a newer sandbox are freed; those of live pods and
// those made without a pod identity stay; a deleted node's allocations go at once.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runIpamGc } from '../../ctl/ipam-gc.js';
import { type Datastore, kubernetesDatastore, POD_IPS_ANNOTATION } from '../../datastore/index.js';
import { Ipam } from '../../ipam/index.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';
import { wipeIpam } from '../ipam-fixtures.js';

const POOL = '10.244.96.0/20';

describe.skipIf(!isRoot)(`IPAM leak GC by pod liveness (${ROOT_REASON})`, () => {
  let ds: Datastore;
  let core: CoreV1Api;
  const n1 = uniqueName('gc-n1');
  const n2 = uniqueName('gc-n2');
  const gone = uniqueName('gc-gone'); // a node with no Node object
  const pods: string[] = [];

  const createPod = async (name: string, node: string, ips?: string) => {
    pods.push(name);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name, annotations: ips ? { [POD_IPS_ANNOTATION]: ips } : {} },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
  };

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(inject('kubeconfig'));
    core = kc.makeApiClient(CoreV1Api);
    ds = kubernetesDatastore(kc);
    for (const n of [n1, n2]) await core.createNode({ body: { metadata: { name: n } } });
    await ds.ipPools.create({ metadata: { name: 'gc-pods-it' }, spec: { cidr: POOL } });
  });
  afterAll(async () => {
    for (const p of pods)
      await core
        .deleteNamespacedPod({ namespace: 'default', name: p, gracePeriodSeconds: 0 })
        .catch(() => {});
    for (const n of [n1, n2]) await core.deleteNode({ name: n }).catch(() => {});
    if (ds) {
      await wipeIpam(ds, { pool: POOL, nodes: [n1, n2, gone] }).catch(() => {});
      await ds.close();
    }
  });

  it('frees what no live pod holds, keeps the rest', async () => {
    const ipam = new Ipam(ds);
    const assign = async (handle: string, node: string, pod?: string) =>
      (
        await ipam.assign(handle, node, {
          v4: 1,
          pool: 'gc-pods-it',
          attrs: pod ? { namespace: 'default', pod } : {},
        })
      ).addresses[0]?.address as string;
    const live = uniqueName('live');
    const moved = uniqueName('moved');
    const reborn = uniqueName('reborn');
    await assign('gc/live', n1, live);
    await assign('gc/dead', n1, uniqueName('deleted'));
    await assign('gc/moved', n1, moved);
    await assign('gc/bare', n1);
    await assign('gc/orphan-node', gone, live);
    await assign('gc/reborn-old', n1, reborn);
    const fresh = await assign('gc/reborn-new', n1, reborn);
    await createPod(live, n1);
    await createPod(moved, n2);
    await createPod(reborn, n1, fresh);

    const lines: string[] = [];
    // With a grace period, one run frees only the allocations of a node that is gone.
    // Other files allocate on the same API server meanwhile: collect only in this file's pool.
    const gc = (graceMs: number) =>
      runIpamGc(ds, { graceMs, intervalMs: 0, once: true, pools: [POOL], write: (l) => lines.push(l) });
    await gc(60_000);
    expect(await ipam.addressesOf('gc/orphan-node', gone)).toEqual([]);
    expect(await ipam.addressesOf('gc/dead', n1)).toHaveLength(1);

    await gc(0);
    const held = async (h: string) => (await ipam.addressesOf(h, n1)).length;
    expect(await held('gc/dead')).toBe(0);
    expect(await held('gc/moved')).toBe(0);
    expect(await held('gc/reborn-old')).toBe(0);
    expect(await held('gc/live')).toBe(1);
    expect(await held('gc/bare')).toBe(1);
    expect(await held('gc/reborn-new')).toBe(1);
    expect(
      lines.map((l) => JSON.parse(l) as { errors?: string[] }).every((r) => (r.errors ?? []).length === 0),
    ).toBe(true);
  });
});
