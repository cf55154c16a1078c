// tabby driven by real clients nobody here wrote: cnitool (libcni v1.3, built from the Go module
// proxy) and containerd 1.6's CRI (Debian), both against a tabby agent in a node namespace and
// the built plugin executable. One node and one agent serve both.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cidrContains, parseCidr } from '../../common/addr.js';
import { type Datastore, kubernetesDatastore } from '../../datastore/index.js';
import { Ipam } from '../../ipam/index.js';
import { ipJson, runInNetns } from '../../kernel/index.js';
import { PLUGIN } from '../../lab/cni-runner.js';
import { type CnitoolOptions, removeCnitoolCache, runCnitool } from '../../lab/cnitool.js';
import {
  type Containerd,
  linkCniPlugins,
  referencePlugins,
  removeCniCacheFiles,
  startContainerd,
  writeCniConfig,
} from '../../lab/containerd/index.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';
import { wipeIpam } from '../ipam-fixtures.js';
import { TestNode } from '../node-fixture.js';

const POOL_NAME = 'real-clients-it';
const POOL = '10.244.80.0/20';
const inPool = (ip: string) => cidrContains(parseCidr(POOL), ip);
const pings = (netns: string, ip: string) =>
  runInNetns(netns, ['ping', '-c', '1', '-W', '2', ip]).then(
    () => true,
    () => false,
  );

describe.skipIf(!isRoot)(`real CNI clients drive tabby (${ROOT_REASON})`, () => {
  let ds: Datastore;
  let node: TestNode;
  const ipam = () => new Ipam(ds);
  const routesTo = async (ip: string) =>
    (await ipJson<{ dst: string }[]>(node.netns, ['route', 'show', 'table', 'main'])).filter(
      (r) => r.dst === ip,
    );

  beforeAll(async () => {
    ds = kubernetesDatastore(inject('kubeconfig'));
    await ds.ipPools.delete(POOL_NAME).catch(() => {});
    await ds.ipPools.create({ metadata: { name: POOL_NAME }, spec: { cidr: POOL } });
    node = await TestNode.start({
      prefix: 'tbyx',
      kubeconfig: inject('kubeconfig'),
      apiSocket: inject('apiSocket'),
      pool: POOL_NAME,
      uplink: '198.18.250.4',
    });
  });
  afterAll(async () => {
    await node?.close();
    if (ds) {
      await wipeIpam(ds, { pool: POOL, nodes: node ? [node.name] : [] }).catch(() => {});
      await ds.close();
    }
  });

  describe('cnitool', () => {
    const dir = () => `/run/tabby/cnitool-${node.name}`;
    const net = (v: string) => `tabby-cnitool-${v.replaceAll('.', '')}`;
    const opts = (verb: CnitoolOptions['verb'], version: string, netnsPath?: string): CnitoolOptions => ({
      verb,
      network: net(version),
      netnsPath,
      hostNetns: node.netns,
      netconfDir: `${dir()}/net.d`,
      cniPath: `${dir()}/bin`,
      cniArgs: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: `cnitool-${version}` },
    });

    beforeAll(() => {
      linkCniPlugins(`${dir()}/bin`, { tabby: PLUGIN });
      for (const v of ['1.0.0', '1.1.0']) {
        const { type: _t, ...conf } = node.netconf(v);
        writeCniConfig(`${dir()}/net.d`, {
          cniVersion: v,
          name: net(v),
          plugins: [{ ...conf, type: 'tabby' }],
        });
      }
    });
    afterAll(() => {
      for (const v of ['1.0.0', '1.1.0']) removeCnitoolCache(net(v));
      rmSync(dir(), { recursive: true, force: true });
    });

    it.each(['1.0.0', '1.1.0'])('add / check / del with a %s network', async (version) => {
      const pod = await node.addPod(`ct${version.replaceAll('.', '')}`);
      const added = await runCnitool(opts('add', version, pod.path));
      expect(added.exitCode, added.stderr).toBe(0);
      const result = JSON.parse(added.stdout) as { cniVersion: string; ips: { address: string }[] };
      expect(result.cniVersion).toBe(version);
      const ip = (result.ips[0]?.address ?? '').split('/')[0] as string;
      expect(inPool(ip)).toBe(true);
      expect(await pings(pod.name, '198.18.250.5')).toBe(true);

      const checked = await runCnitool(opts('check', version, pod.path));
      expect(checked.exitCode, checked.stderr).toBe(0);
      await runInNetns(pod.name, ['ip', 'addr', 'flush', 'dev', 'eth0']);
      const broken = await runCnitool(opts('check', version, pod.path));
      expect(broken.exitCode).not.toBe(0);
      expect(broken.error).toMatch(/lacks/);

      const deleted = await runCnitool(opts('del', version, pod.path));
      expect(deleted.exitCode, deleted.stderr).toBe(0);
      expect(await routesTo(ip)).toEqual([]);
      const again = await runCnitool(opts('del', version, pod.path)); // idempotent
      expect(again.exitCode, again.stderr).toBe(0);
      await node.removePod(pod.name);
    });

    it('status answers, and gc releases what no attachment holds', async () => {
      const status = await runCnitool(opts('status', '1.1.0'));
      expect(status.exitCode, status.stderr).toBe(0);

      // An address allocated for this network that no pod holds (an ADD that died midway).
      const leaked = await ipam().assign(`${net('1.1.0')}/leaked-container`, node.name, { v4: 1 });
      expect(leaked.addresses).toHaveLength(1);
      const pod = await node.addPod('ctgc');
      expect((await runCnitool(opts('add', '1.1.0', pod.path))).exitCode).toBe(0);
      const gc = await runCnitool(opts('gc', '1.1.0'));
      expect(gc.exitCode, gc.stderr).toBe(0);
      expect(await ipam().addressesOf(`${net('1.1.0')}/leaked-container`, node.name)).toEqual([]);
      await node.removePod(pod.name);
    });
  });

  describe('containerd CRI', () => {
    let ctrd: Containerd | undefined;
    const dir = () => `/run/tabby/containerd-${node.name}`;
    const network = 'tabby-containerd';

    beforeAll(async () => {
      linkCniPlugins(`${dir()}/cni/bin`, { tabby: PLUGIN, ...referencePlugins(['loopback']) });
      const { type: _t, ...conf } = node.netconf('1.0.0');
      writeCniConfig(`${dir()}/cni/net.d`, {
        cniVersion: '1.0.0',
        cniVersions: ['1.0.0', '1.1.0'],
        name: network,
        plugins: [{ ...conf, type: 'tabby', capabilities: { dns: true } }],
      });
      ctrd = await startContainerd({
        netns: node.netns,
        dir: dir(),
        cniBinDir: `${dir()}/cni/bin`,
        cniConfDir: `${dir()}/cni/net.d`,
      });
    });
    afterAll(async () => {
      try {
        await ctrd?.stop();
        expect(ctrd?.leftovers() ?? []).toEqual([]);
      } finally {
        removeCniCacheFiles({ network });
        rmSync(dir(), { recursive: true, force: true });
      }
    });

    it('RunPodSandbox gives the pod a tabby address and connectivity; Stop and Remove release it', async () => {
      const c = ctrd as Containerd;
      const ids = await Promise.all(
        ['web-0', 'web-1'].map((name) =>
          c.cri.runPodSandbox({ name, namespace: 'default', uid: uniqueName('uid') }),
        ),
      );
      const status = await Promise.all(ids.map((id) => c.cri.podSandboxStatus(id)));
      const ips = status.map((s) => s.ip);
      for (const s of status) expect(s.state).toBe('SANDBOX_READY');
      expect(ips.every(inPool)).toBe(true);
      expect(new Set(ips).size).toBe(2);
      const podNs = await c.podNetns(ids[0] as string);
      expect(await pings(podNs, ips[1] as string)).toBe(true);
      expect(await pings(podNs, '198.18.250.5')).toBe(true);
      expect(await routesTo(ips[0] as string)).toHaveLength(1);

      for (const id of ids) {
        await c.cri.stopPodSandbox(id); // DEL with the netns and prevResult
        await c.cri.removePodSandbox(id); // a second DEL, with CNI_NETNS=""
      }
      for (const ip of ips) expect(await routesTo(ip)).toEqual([]);
      const left = (await ds.ipamHandles.get(node.name))?.spec.handles ?? {};
      expect(Object.keys(left).filter((h) => h.startsWith(`${network}/`))).toEqual([]);
    });
  });
});
