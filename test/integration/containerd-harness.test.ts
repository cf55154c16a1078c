// The containerd CRI harness on its own, with Debian's reference plugins (ptp + host-local):
// a private containerd in a test-owned netns runs, stops and removes pod sandboxes like a
// kubelet, and leaves nothing behind, also when containerd dies with a sandbox running.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ipJson, isRunning, netnsExists, runInNetns } from '../../kernel/index.js';
import {
  type Containerd,
  linkCniPlugins,
  listCniCacheFiles,
  referencePlugins,
  startContainerd,
  writeCniConfig,
} from '../../lab/containerd/index.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';

const SUBNET = '10.244.200.0/24';
const inSubnet = (ip: string) => /^10\.244\.200\.\d+$/.test(ip);

describe.skipIf(!isRoot)(`containerd CRI harness (${ROOT_REASON})`, () => {
  const netns = uniqueName('tbyc');
  const dir = `/run/tabby/containerd-${netns}`;
  const network = `ptp-${netns}`;
  let ctrd: Containerd | undefined;
  let tStart = 0;

  beforeAll(async () => {
    await addNetns(netns);
    linkCniPlugins(`${dir}/cni/bin`, referencePlugins(['ptp', 'host-local', 'loopback']));
    writeCniConfig(`${dir}/cni/net.d`, {
      cniVersion: '1.0.0',
      name: network,
      plugins: [
        { type: 'ptp', ipMasq: false, ipam: { type: 'host-local', subnet: SUBNET, dataDir: `${dir}/ipam` } },
      ],
    });
    const t0 = performance.now();
    ctrd = await startContainerd({ netns, dir, cniBinDir: `${dir}/cni/bin`, cniConfDir: `${dir}/cni/net.d` });
    tStart = performance.now() - t0;
  });

  afterAll(async () => {
    try {
      await ctrd?.stop();
      expect(ctrd?.leftovers() ?? []).toEqual([]);
    } finally {
      await deleteNetns(netns);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await netnsExists(netns)).toBe(false);
  });

  it('serves CRI v1 from containerd 1.6 with the runtime and the network ready', async () => {
    const c = ctrd as Containerd;
    expect(await c.cri.version()).toMatchObject({ runtimeName: 'containerd', runtimeApiVersion: 'v1' });
    const conds = await c.cri.status();
    expect(conds.filter((x) => x.status).map((x) => x.type)).toEqual(
      expect.arrayContaining(['RuntimeReady', 'NetworkReady']),
    );
    expect(await c.cri.imageExists(c.pauseImage)).toBe(true);
  });

  it('runs a pod sandbox with an IP from the subnet; stop and remove undo it all', async () => {
    const c = ctrd as Containerd;
    const t0 = performance.now();
    const id = await c.cri.runPodSandbox({ name: 'web', namespace: 'default', uid: uniqueName('uid') });
    const tRun = performance.now() - t0;

    const st = await c.cri.podSandboxStatus(id);
    expect(st.state).toBe('SANDBOX_READY');
    expect(st.metadata).toMatchObject({ name: 'web', namespace: 'default' });
    expect(inSubnet(st.ip)).toBe(true);
    expect((await c.cri.listPodSandbox()).map((s) => s.id)).toContain(id);

    // The pod's namespace has eth0 with that IP, and reaches its gateway (the host end of the veth,
    // inside containerd's netns: nothing in the root namespace).
    const podNs = await c.podNetns(id);
    expect(podNs).toMatch(/^cni-/);
    const addrs = await ipJson<{ ifname: string; addr_info: { local: string }[] }[]>(podNs, [
      'addr',
      'show',
      'eth0',
    ]);
    expect(addrs[0]?.addr_info.map((a) => a.local)).toContain(st.ip);
    await runInNetns(podNs, ['ping', '-c', '1', '-W', '2', '10.244.200.1'], { timeoutMs: 5000 });
    expect(listCniCacheFiles({ containerIds: new Set([id]) }).sort()).toEqual(
      [`cni-loopback-${id}-lo`, `${network}-${id}-eth0`].sort(),
    );

    const t1 = performance.now();
    await c.cri.stopPodSandbox(id);
    const tStop = performance.now() - t1;
    expect((await c.cri.podSandboxStatus(id)).state).toBe('SANDBOX_NOTREADY');
    expect(existsSync(`/run/netns/${podNs}`)).toBe(false);

    const t2 = performance.now();
    await c.cri.removePodSandbox(id);
    const tRemove = performance.now() - t2;
    expect((await c.cri.listPodSandbox()).map((s) => s.id)).not.toContain(id);
    expect(listCniCacheFiles({ containerIds: new Set([id]) })).toEqual([]);
    // containerd, its dir and the (empty) cgroup parent stay until stop(); nothing of the pod does.
    expect(c.leftovers().filter((l) => /^(mount|netns|shim socket|CNI cache) /.test(l))).toEqual([]);
    process.stderr.write(
      `containerd harness: start ${tStart.toFixed(0)} ms, RunPodSandbox ${tRun.toFixed(0)} ms, Stop ${tStop.toFixed(0)} ms, ` +
        `Remove ${tRemove.toFixed(0)} ms\n`,
    );
  });

  // Last: it kills the file's containerd.
  it('stop() after containerd died with a sandbox running leaves nothing behind', async () => {
    const c = ctrd as Containerd;
    const id = await c.cri.runPodSandbox({ name: 'orphan', namespace: 'default', uid: uniqueName('uid') });
    const podNs = await c.podNetns(id);
    process.kill(c.pid, 'SIGKILL');
    await expect.poll(() => isRunning({ pid: c.pid })).toBe(false);
    expect(existsSync(`/run/netns/${podNs}`)).toBe(true);

    await c.stop();
    expect(c.leftovers()).toEqual([]);
    expect(existsSync(`/run/netns/${podNs}`)).toBe(false);
  });
});
