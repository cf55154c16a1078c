// The cnitool harness on its own, with Debian's reference plugins (ptp + host-local, spec
// ≤ 1.0.0): cnitool runs inside a test-owned "host" netns and attaches a test-owned "pod" netns.
// add/check/del behave as libcni does; gc of a 1.0.0 network DELs every cached attachment;
// status/gc of a 1.1.0 network reach the plugins, which these old ones refuse.
import { mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ipJson, netnsExists } from '../../kernel/index.js';
import {
  type CnitoolOptions,
  cnitoolContainerId,
  listCnitoolCache,
  removeCnitoolCache,
  runCnitool,
} from '../../lab/cnitool.js';
import { REFERENCE_PLUGIN_DIR, writeCniConfig } from '../../lab/containerd/index.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';

interface AddResult {
  cniVersion: string;
  interfaces: { name: string; sandbox?: string }[];
  ips: { address: string; gateway: string; interface: number }[];
}

describe.skipIf(!isRoot)(`cnitool harness (${ROOT_REASON})`, () => {
  const name = uniqueName('tbyt');
  const hostNs = `${name}-h`;
  const podNs = `${name}-p`;
  const podPath = `/run/netns/${podNs}`;
  const dir = `/run/tabby/cnitool-${name}`;
  const net = `ptp-${name}`;
  const net11 = `ptp11-${name}`;
  const base = (verb: CnitoolOptions['verb'], network = net): CnitoolOptions => ({
    verb,
    network,
    netnsPath: podPath,
    hostNetns: hostNs,
    netconfDir: `${dir}/net.d`,
    cniPath: REFERENCE_PLUGIN_DIR,
  });
  const eth0 = () => ipJson<{ ifname: string; addr_info: { local: string }[] }[]>(podNs, ['addr']);

  beforeAll(async () => {
    await addNetns(hostNs);
    await addNetns(podNs);
    mkdirSync(dir, { recursive: true });
    const ptp = (subnet: string) => ({
      type: 'ptp',
      ipMasq: false,
      ipam: { type: 'host-local', subnet, dataDir: `${dir}/ipam` },
    });
    writeCniConfig(`${dir}/net.d`, { cniVersion: '1.0.0', name: net, plugins: [ptp('10.244.201.0/24')] });
    writeCniConfig(`${dir}/net.d`, { cniVersion: '1.1.0', name: net11, plugins: [ptp('10.244.202.0/24')] });
  });

  afterAll(async () => {
    try {
      removeCnitoolCache(net);
      removeCnitoolCache(net11);
    } finally {
      await deleteNetns(podNs);
      await deleteNetns(hostNs);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(listCnitoolCache(net)).toEqual([]);
    expect(await netnsExists(podNs)).toBe(false);
  });

  it('adds, checks and deletes an attachment, caching the result under its own container ID', async () => {
    const add = await runCnitool(base('add'));
    expect(add.exitCode, add.stderr).toBe(0);
    const result = JSON.parse(add.stdout) as AddResult;
    expect(result.cniVersion).toBe('1.0.0');
    expect(result.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: podPath });
    expect(result.ips[0]?.address).toMatch(/^10\.244\.201\.\d+\/24$/);
    const podIp = result.ips[0]?.address.split('/')[0];
    expect((await eth0()).find((l) => l.ifname === 'eth0')?.addr_info.map((a) => a.local)).toContain(podIp);
    expect(listCnitoolCache(net, podPath)).toEqual([`${net}-${cnitoolContainerId(podPath)}-eth0`]);

    expect((await runCnitool(base('check'))).exitCode).toBe(0);

    // A second ADD of the same attachment: host-local refuses the duplicate; exit 1, message last.
    const again = await runCnitool(base('add'));
    expect(again.exitCode).toBe(1);
    expect(again.error).toMatch(/^plugin type="ptp" failed \(add\): .*duplicate allocation/);

    expect((await runCnitool(base('del'))).exitCode).toBe(0);
    expect((await eth0()).map((l) => l.ifname)).not.toContain('eth0');
    expect(listCnitoolCache(net, podPath)).toEqual([]);
    expect((await runCnitool(base('del'))).exitCode).toBe(0); // DEL is idempotent
  });

  it('refuses unknown CNI_ARGS without IgnoreUnknown (reference plugins)', async () => {
    const r = await runCnitool({ ...base('add'), cniArgs: { K8S_POD_NAME: 'x' } });
    expect(r.exitCode).toBe(1);
    expect(r.error).toMatch(/unknown args/);
    expect(listCnitoolCache(net, podPath)).toEqual([]);
  });

  it('gc of a 1.0.0 network DELs every cached attachment (no valid list), sends no GC', async () => {
    expect((await runCnitool(base('add'))).exitCode).toBe(0);
    const gc = await runCnitool({ ...base('gc'), netnsPath: undefined });
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(listCnitoolCache(net)).toEqual([]);
    expect((await eth0()).map((l) => l.ifname)).not.toContain('eth0');
  });

  it('status: 1.0.0 skips the plugins (exit 0); 1.1.0 reaches them and these old ones refuse', async () => {
    expect((await runCnitool({ ...base('status'), netnsPath: undefined })).exitCode).toBe(0);
    const status11 = await runCnitool({ ...base('status', net11), netnsPath: undefined });
    expect(status11.exitCode).toBe(1);
    expect(status11.error).toMatch(/missing containerID/);
    const gc11 = await runCnitool({ ...base('gc', net11), netnsPath: undefined });
    expect(gc11.exitCode).toBe(1);
    expect(gc11.error).toMatch(/failed to GC plugin ptp/);
    const add11 = await runCnitool(base('add', net11));
    expect(add11.exitCode).toBe(1);
    expect(add11.error).toMatch(/incompatible CNI versions/);
  });
});
