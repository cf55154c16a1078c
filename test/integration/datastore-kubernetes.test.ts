// The Kubernetes datastore against a real kube-apiserver: the shared contract suite (Nodes and
// Secrets included), the API server's own validation of tabby's CRDs (deploy/crds: IPAM and BGP),
// node labels and error mapping.
// It shares the run's control plane with other files: every object here has a unique name,
// pools are disabled and select no node, blocks lie in 198.18.0.0/15 (outside any test pool).
import {
  CoreV1Api,
  KubeConfig,
  Watch as KubeWatch,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { formatCidr, parseCidr, subnetAt } from '../../common/addr.js';
import {
  type BGPPeerSpec,
  type Datastore,
  DatastoreError,
  type IPAMBlockSpec,
  type IPPoolSpec,
  isDatastoreError,
  kubernetesDatastore,
  type ResourceStore,
} from '../../datastore/index.js';
import { describeDatastoreContract, rejection, until } from '../datastore-contract.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';

describe.skipIf(!isRoot)(`Kubernetes datastore (${ROOT_REASON})`, () => {
  const kubeconfig = inject('kubeconfig');
  let ds: Datastore;

  beforeAll(() => {
    ds = kubernetesDatastore(kubeconfig);
  });
  afterAll(async () => {
    await ds?.close();
  });

  const coreApi = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    return kc.makeApiClient(CoreV1Api);
  };

  describeDatastoreContract('kubernetes', async () => kubernetesDatastore(kubeconfig), {
    secretNamespace: 'default',
    fixtures: () => {
      const core = coreApi();
      return {
        createNode: async ({ name, labels, annotations, addresses }) => {
          await core.createNode({ body: { metadata: { name, labels, annotations } } });
          if (addresses.length > 0) {
            await core.patchNodeStatus(
              { name, body: { status: { addresses } } },
              setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
            );
          }
        },
        deleteNode: async (name) => {
          await core.deleteNode({ name });
        },
        putSecret: async (namespace, name, data) => {
          const encoded = Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          );
          await core.createNamespacedSecret({ namespace, body: { metadata: { name }, data: encoded } });
        },
        deleteSecret: async (namespace, name) => {
          await core.deleteNamespacedSecret({ namespace, name });
        },
      };
    },
  });

  /** The create must be refused with Invalid, and the message must name the field. */
  async function refused<S>(store: ResourceStore<S>, spec: S, field: RegExp, name = uniqueName('bad')) {
    // `default` BGPConfiguration may exist: the BGP test files share one (nothing may change it)
    const before = (await store.get(name))?.metadata.resourceVersion;
    const e = await rejection(store.create({ metadata: { name }, spec }));
    expect(e).toBeInstanceOf(DatastoreError);
    expect((e as DatastoreError).reason).toBe('Invalid');
    expect((e as DatastoreError).message).toMatch(field);
    expect((await store.get(name))?.metadata.resourceVersion).toBe(before);
  }
  const pool = (spec: Partial<IPPoolSpec>) => ({ disabled: true, ...spec }) as IPPoolSpec;
  const block = (spec: Partial<IPAMBlockSpec>): IPAMBlockSpec => ({
    cidr: '198.18.200.0/26',
    allocations: [null],
    attributes: [],
    free: [{ ordinal: 0 }],
    sequence: 0,
    ...spec,
  });

  describe('the API server validates tabby objects', () => {
    it('IPPool cidr must be a network CIDR', async () => {
      await refused(
        ds.ipPools,
        pool({ cidr: '10.244.0.0/33' }),
        /spec\.cidr: .*must be an IPv4 or IPv6 CIDR/,
      );
      await refused(ds.ipPools, pool({ cidr: '10.244.0.1/16' }), /spec\.cidr: .*no host bits/);
      await refused(ds.ipPools, pool({ cidr: 'fd00::1/56' }), /spec\.cidr: .*no host bits/);
      await refused(ds.ipPools, pool({ cidr: 'not-a-cidr' }), /spec\.cidr: .*should match/);
      await refused(ds.ipPools, {} as IPPoolSpec, /spec\.cidr: Required value/);
    });

    it('IPPool blockSize fits the family and the pool', async () => {
      await refused(
        ds.ipPools,
        pool({ cidr: '10.244.0.0/16', blockSize: 19 }),
        /spec\.blockSize: .*between 20 and 32/,
      );
      await refused(
        ds.ipPools,
        pool({ cidr: '10.244.0.0/16', blockSize: 33 }),
        /spec\.blockSize: .*between 20 and 32/,
      );
      await refused(
        ds.ipPools,
        pool({ cidr: 'fd00::/56', blockSize: 115 }),
        /spec\.blockSize: .*between 116 and 128/,
      );
      await refused(
        ds.ipPools,
        pool({ cidr: '10.244.0.0/26', blockSize: 24 }),
        /spec\.blockSize: .*prefix length/,
      );
      // The default block size (26) applies when blockSize is absent.
      await refused(ds.ipPools, pool({ cidr: '10.244.0.0/28' }), /spec\.blockSize: .*prefix length/);
      await refused(
        ds.ipPools,
        pool({ cidr: '10.244.0.0/16', nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }),
        /spec\.nodeSelector\.matchExpressions\[0\]/,
      );
    });

    it('valid IPv4 and IPv6 pools are accepted; cidr and blockSize are immutable', async () => {
      const v4 = await ds.ipPools.create({
        metadata: { name: uniqueName('v4') },
        spec: pool({ cidr: '198.19.0.0/16', blockSize: 24 }),
      });
      const v6 = await ds.ipPools.create({
        metadata: { name: uniqueName('v6') },
        spec: pool({ cidr: 'fd00:10:244::/56' }),
      });
      try {
        const update = (spec: Partial<IPPoolSpec>, base = v4) =>
          rejection(ds.ipPools.update({ ...base, spec: { ...base.spec, ...spec } }));
        const cases: [Promise<unknown>, RegExp][] = [
          [update({ cidr: '198.20.0.0/16' }), /spec\.cidr: .*immutable/],
          [update({ blockSize: 26 }), /spec\.blockSize: .*immutable/],
          [update({ blockSize: 122 }, v6), /spec\.blockSize: .*immutable/],
        ];
        for (const [p, msg] of cases) {
          const e = await p;
          expect(isDatastoreError(e, 'Invalid')).toBe(true);
          expect((e as Error).message).toMatch(msg);
        }
        const enabled = await ds.ipPools.update({ ...v4, spec: { ...v4.spec, disabled: false } });
        expect(enabled.spec).toEqual({ cidr: '198.19.0.0/16', blockSize: 24, disabled: false });
      } finally {
        await ds.ipPools.delete(v4.metadata.name);
        await ds.ipPools.delete(v6.metadata.name);
      }
    });

    it('IPAMConfig: bounded settings, and only the object named default', async () => {
      const c = ds.ipamConfigs;
      await refused(
        c,
        { maxBlocksPerNode: -1 },
        /spec\.maxBlocksPerNode: .*greater than or equal to 0/,
        'default',
      );
      await refused(
        c,
        { cooldownSeconds: -1 },
        /spec\.cooldownSeconds: .*greater than or equal to 0/,
        'default',
      );
      await refused(
        c,
        { cooldownSeconds: 3601 },
        /spec\.cooldownSeconds: .*less than or equal to 3600/,
        'default',
      );
      await refused(c, {}, /metadata\.name: .*must be "default"/);
    });

    it('IPAMBlock, BlockAffinity and IPAMHandle fields are checked', async () => {
      await refused(ds.ipamBlocks, block({ sequence: -1 }), /spec\.sequence: .*greater than or equal to 0/);
      await refused(ds.ipamBlocks, block({ free: [{ ordinal: -1 }] }), /spec\.free\[0\]\.ordinal/);
      await refused(ds.ipamBlocks, block({ allocations: [-1] }), /spec\.allocations\[0\]/);
      await refused(
        ds.ipamBlocks,
        block({ attributes: [{ handle: 'h', sequence: -2 }] }),
        /spec\.attributes\[0\]\.sequence/,
      );
      await refused(
        ds.ipamBlocks,
        block({ cidr: 'fd00:0:0:0:0:0:0:40/122' }),
        /spec\.cidr: .*canonical form/,
      );
      await refused(
        ds.ipamBlocks,
        block({ cidr: '10.244.0.0/16' }),
        /spec\.cidr: .*block-size prefix length/,
      );
      const affinity = { node: 'n1', cidr: '198.18.200.0/26' };
      await refused(
        ds.blockAffinities,
        { ...affinity, state: 'claimed' as 'pending' },
        /spec\.state: Unsupported value/,
      );
      await refused(
        ds.ipamHandles,
        { node: 'n1', handles: { h: { blocks: { '198.18.200.0/26': 0 } } } },
        /spec\.handles\.h\.blocks/,
      );
      // Fields the CRD does not know are refused, not silently dropped.
      await refused(
        ds.ipamBlocks,
        { ...block({}), extra: 1 } as IPAMBlockSpec,
        /unknown field "spec\.extra"/,
      );
    });
  });

  describe('the API server validates BGP objects', () => {
    const peer = (spec: Partial<BGPPeerSpec>): BGPPeerSpec => ({
      node: 'no-such-node',
      peerIP: '192.0.2.254',
      asNumber: 65000,
      ...spec,
    });
    const ref = { namespace: 'tabby-system', name: 'bgp', key: 'tor' };

    it('BGPPeer fields are checked', async () => {
      const p = ds.bgpPeers;
      await refused(p, peer({ peerIP: '10.0.0' }), /spec\.peerIP: .*must be an IPv4 or IPv6 address/);
      await refused(p, peer({ peerIP: '127.0.0.1' }), /spec\.peerIP: .*must be a unicast address/);
      await refused(p, peer({ peerIP: 'fe80::1' }), /spec\.peerIP: .*must be a unicast address/);
      await refused(p, peer({ peerIP: '::' }), /spec\.peerIP: .*must be a unicast address/);
      await refused(p, { node: 'x', asNumber: 1 } as BGPPeerSpec, /spec\.peerIP: Required value/);
      await refused(p, peer({ asNumber: 0 }), /spec\.asNumber: .*greater than or equal to 1/);
      await refused(p, peer({ asNumber: 4294967296 }), /spec\.asNumber: .*less than or equal to 4294967295/);
      await refused(p, peer({ port: 0 }), /spec\.port/);
      await refused(p, peer({ ebgpMultihop: 1 }), /spec\.ebgpMultihop: .*greater than or equal to 2/);
      await refused(p, peer({ holdTime: 2 }), /spec\.holdTime: .*greater than or equal to 3/);
      await refused(p, peer({ holdTime: 0 }), /spec\.holdTime: .*greater than or equal to 3/);
      await refused(
        p,
        peer({ holdTime: 9, keepaliveTime: 4 }),
        /spec\.keepaliveTime: .*a third of spec\.holdTime/,
      );
      await refused(p, peer({ nodeSelector: {} }), /spec\.node and spec\.nodeSelector cannot both be set/);
      await refused(
        p,
        peer({ allowedPrefixes: ['10.1.0.1/16'] }),
        /spec\.allowedPrefixes\[0\]: .*no host bits/,
      );
      await refused(p, peer({ allowedPrefixes: ['nope'] }), /spec\.allowedPrefixes\[0\]: .*CIDRs/);
      await refused(p, peer({ sourceAddress: 'fd00::1' }), /spec\.sourceAddress: .*family of spec\.peerIP/);
      await refused(p, peer({ password: { ...ref, key: '' } }), /spec\.password\.key/);
      await refused(p, peer({ password: { ...ref, namespace: 'Bad_NS' } }), /spec\.password\.namespace/);
    });

    it('a complete BGPPeer (IPv4 or IPv6) is accepted as it is', async () => {
      for (const spec of [
        peer({
          port: 1179,
          password: ref,
          keepaliveTime: 3,
          holdTime: 9,
          gracefulRestart: true,
          ebgpMultihop: 2,
          maxPrefixes: 4294967295,
          allowedPrefixes: ['198.51.100.0/24', '2001:db8::/32'],
          sourceAddress: '192.0.2.1',
          passive: true,
          asNumber: 4294967295,
        }),
        {
          peerIP: '2001:db8::fe',
          asNumber: 65000,
          sourceAddress: '2001:db8::1',
          nodeSelector: { matchLabels: { 'tabby.dev/test': 'none' } },
        },
      ]) {
        const created = await ds.bgpPeers.create({ metadata: { name: uniqueName('peer') }, spec });
        expect(created.spec).toEqual(spec);
        await ds.bgpPeers.delete(created.metadata.name);
      }
    });

    it('BGPConfiguration: bounded settings, and only the object named default', async () => {
      const c = ds.bgpConfigurations;
      await refused(c, { asNumber: 0 }, /spec\.asNumber: .*greater than or equal to 1/, 'default');
      await refused(c, { listenPort: 65536 }, /spec\.listenPort/, 'default');
      await refused(
        c,
        { gracefulRestartTime: 4096 },
        /spec\.gracefulRestartTime: .*less than or equal to 4095/,
        'default',
      );
      await refused(c, { holdTime: 1 }, /spec\.holdTime: .*greater than or equal to 3/, 'default');
      await refused(c, { holdTime: 0 }, /spec\.holdTime: .*greater than or equal to 3/, 'default');
      await refused(c, { keepaliveTime: 31, holdTime: 90 }, /spec\.keepaliveTime: .*a third/, 'default');
      await refused(c, { meshPassword: { ...ref, name: '' } }, /spec\.meshPassword\.name/, 'default');
      await refused(c, {}, /metadata\.name: .*must be "default"/);
    });
  });

  it("block CIDRs as common/addr writes them are in the API server's canonical form", async () => {
    const cidrs = [
      '10.244.3.192/26',
      'fd00:0:1:0:0:1:0:0/122',
      '2001:db8:0:0:1:0:0:40/122',
      '0:0:1:0:0:0:0:0/122',
      'FD00:A:0:0:0:0:0:0/116',
      'fd00:0:0:0:0:0:0:1/128',
    ].map((c) => formatCidr(parseCidr(c)));
    cidrs.push(formatCidr(subnetAt(parseCidr('fd00:10:244::/56'), 122, 12345n)));
    for (const cidr of cidrs) {
      const a = await ds.blockAffinities.create({
        metadata: { name: uniqueName('canon') },
        spec: { node: 'n1', cidr, state: 'pending' },
      });
      await ds.blockAffinities.delete(a.metadata.name);
    }
  });

  it('nodeLabels reads a Node, undefined when there is none', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const name = uniqueName('node');
    await core.createNode({ body: { metadata: { name, labels: { rack: 'r1', 'tabby.dev/test': 'yes' } } } });
    try {
      expect(await ds.nodeLabels(name)).toEqual({ rack: 'r1', 'tabby.dev/test': 'yes' });
    } finally {
      await core.deleteNode({ name });
    }
    expect(await ds.nodeLabels(name)).toBeUndefined();
  });

  it('a watch resumes from where it was when the API server closes the stream', async () => {
    // The API server ends watches after 30-60 minutes; make it 1 s.
    const original = KubeWatch.prototype.watch;
    const connects = vi.spyOn(KubeWatch.prototype, 'watch').mockImplementation(function (
      this: KubeWatch,
      path,
      params,
      callback,
      done,
    ) {
      return original.call(this, path, { ...params, timeoutSeconds: 1 }, callback, done);
    });
    try {
      const labels = { 'tabby.dev/test': uniqueName('resume') };
      const events: string[] = [];
      const w = await ds.ipamHandles.watch((e) => events.push(`${e.type} ${e.object.metadata.name}`), {
        labels,
      });
      const names = [0, 1, 2].map((i) => `${labels['tabby.dev/test']}-${i}`);
      for (const name of names) {
        await ds.ipamHandles.create({ metadata: { name, labels }, spec: { node: 'n1', handles: {} } });
        await new Promise((r) => setTimeout(r, 1200));
      }
      for (const name of names) await ds.ipamHandles.delete(name);
      await until(() => events.length >= 6);
      expect(events).toEqual([...names.map((n) => `ADDED ${n}`), ...names.map((n) => `DELETED ${n}`)]);
      expect(connects.mock.calls.length).toBeGreaterThanOrEqual(3);
      await w.stop();
      expect(await w.done).toBeUndefined();
    } finally {
      connects.mockRestore();
    }
  });

  it('close ends the open watches; an unreachable server is Unavailable', async () => {
    const mine = kubernetesDatastore(kubeconfig);
    const w = await mine.ipPools.watch(() => {});
    await mine.close();
    expect(await w.done).toBeUndefined();

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const unreachable = new KubeConfig();
    unreachable.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const down = kubernetesDatastore(unreachable);
    expect(isDatastoreError(await rejection(down.ipPools.list()), 'Unavailable')).toBe(true);
    expect(isDatastoreError(await rejection(down.ipPools.watch(() => {})), 'Unavailable')).toBe(true);
    await down.close();
  });
});
