// The built plugin executable (dist/cni/tabby, a Node SEA) run as a runtime runs it, against a
// fake agent on a unix socket: every bad input is a spec error document on stdout with a non-zero
// exit, and never reaches the agent; a good ADD is answered in the config's cniVersion.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRequest, AgentResponse, CniResult } from '../../cni/protocol.js';
import { run } from '../../kernel/index.js';
import { PLUGIN, runPluginWithEnv } from '../../lab/cni-runner.js';
import { isRoot } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const RESULT: CniResult = {
  interfaces: [
    { name: 'cali0123456789a', mac: 'ee:ee:ee:ee:ee:ee' },
    { name: 'eth0', mac: '02:42:0a:f4:01:07', mtu: 1450, sandbox: '/var/run/netns/cni-test' },
  ],
  ips: [
    { address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 1 },
    { address: 'fd00:10:244::7/128', gateway: 'fe80::ecee:eeff:feee:eeee', interface: 1 },
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '169.254.1.1' },
    { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' },
  ],
  dns: {},
};

/** Runs the plugin with only PATH and the given CNI_* variables (no NODE_EXTRA_CA_CERTS). */
async function plugin(vars: Record<string, string | undefined>, stdin: string | object) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  const { exitCode, stdout, json } = await runPluginWithEnv(env, stdin, PLUGIN);
  return { exitCode, stdout, doc: json };
}

describe.skipIf(!isRoot)('CNI plugin executable: spec errors and results (integration: root)', () => {
  let dir: string;
  let socket: string;
  let server: Server | undefined;
  let requests: AgentRequest[] = [];
  let answer: (r: AgentRequest) => AgentResponse = () => ({ ok: true, result: RESULT });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tabby-cni-it-'));
    socket = join(dir, 'agent.sock');
    // Builds dist/cni/tabby, or returns at once when it is up to date.
    await run(['bash', join(ROOT, 'scripts/build-cni.sh')], { cwd: ROOT, timeoutMs: 120_000 });
    const s = createServer((conn) => {
      let buf = '';
      conn.setEncoding('utf8');
      conn.on('error', () => {});
      conn.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const request = JSON.parse(buf.slice(0, nl)) as AgentRequest;
        requests.push(request);
        conn.end(`${JSON.stringify(answer(request))}\n`);
      });
    });
    server = s;
    await new Promise<void>((resolve) => s.listen(socket, resolve));
  });

  afterAll(async () => {
    const s = server;
    if (s) await new Promise((resolve) => s.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    requests = [];
    answer = () => ({ ok: true, result: RESULT });
  });

  const net = (extra: Record<string, unknown> = {}) => ({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'tabby',
    agentSocket: socket,
    ...extra,
  });
  const ADD = {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c0ffee01',
    CNI_NETNS: '/var/run/netns/cni-test',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=u-1',
  };

  const cases: [string, Record<string, string | undefined>, () => string | object, number, RegExp][] = [
    ['no CNI_COMMAND', { CNI_COMMAND: undefined }, () => net(), 4, /^CNI_COMMAND: required/],
    ['an unknown CNI_COMMAND', { CNI_COMMAND: 'UP' }, () => net(), 4, /^CNI_COMMAND: unknown command "UP"/],
    ['no CNI_CONTAINERID', { CNI_CONTAINERID: undefined }, () => net(), 4, /^CNI_CONTAINERID: required/],
    ['a bad CNI_CONTAINERID', { CNI_CONTAINERID: '../x' }, () => net(), 4, /^CNI_CONTAINERID: "\.\.\/x"/],
    ['no CNI_NETNS for ADD', { CNI_NETNS: undefined }, () => net(), 4, /^CNI_NETNS: required for ADD/],
    ['no CNI_IFNAME', { CNI_IFNAME: undefined }, () => net(), 4, /^CNI_IFNAME: required/],
    ['a 16-byte CNI_IFNAME', { CNI_IFNAME: 'eth0123456789012' }, () => net(), 4, /^CNI_IFNAME: .*15 bytes/],
    [
      'an unknown CNI_ARGS key',
      { CNI_ARGS: 'K8S_POD_NAME=a;IP=1.2.3.4' },
      () => net(),
      2,
      /unknown args "IP=/,
    ],
    ['malformed JSON', {}, () => '{"cniVersion":"1.0.0",', 6, /^network config: invalid JSON/],
    ['empty stdin', {}, () => '', 6, /^network config: stdin is empty/],
    ['no cniVersion', {}, () => net({ cniVersion: undefined }), 7, /^cniVersion: required/],
    [
      'an unknown cniVersion',
      {},
      () => net({ cniVersion: '0.2.0' }),
      1,
      /^cniVersion: "0\.2\.0" is not supported/,
    ],
    [
      'a future cniVersion',
      {},
      () => net({ cniVersion: '1.2.0' }),
      1,
      /^cniVersion: "1\.2\.0" is not supported/,
    ],
    ['no name', {}, () => net({ name: undefined }), 7, /^name: required/],
    ['no type', {}, () => net({ type: undefined }), 7, /^type: required/],
    [
      'a relative agentSocket',
      {},
      () => net({ agentSocket: 'a.sock' }),
      7,
      /^agentSocket: "a\.sock" must be/,
    ],
    ['a bad mtu', {}, () => net({ mtu: 9 }), 7, /^mtu: 9 must be 0/],
    [
      'a bad ipam field',
      {},
      () => net({ ipam: { assignIpv6: 'yes' } }),
      7,
      /^ipam\.assignIpv6: must be a boolean/,
    ],
    ['no address family', {}, () => net({ ipam: { assignIpv4: false } }), 7, /^ipam: at least one of/],
    ['CHECK without prevResult', { CNI_COMMAND: 'CHECK' }, () => net(), 7, /^prevResult: required for CHECK/],
    [
      'CHECK on 0.3.1',
      { CNI_COMMAND: 'CHECK' },
      () => net({ cniVersion: '0.3.1', prevResult: {} }),
      1,
      /CHECK needs/,
    ],
    ['GC on 1.0.0', { CNI_COMMAND: 'GC' }, () => net(), 1, /^cniVersion: GC needs cniVersion 1\.1\.0/],
    [
      'STATUS on 1.0.0',
      { CNI_COMMAND: 'STATUS' },
      () => net(),
      1,
      /^cniVersion: STATUS needs cniVersion 1\.1\.0/,
    ],
    [
      'a bad GC attachment',
      { CNI_COMMAND: 'GC' },
      () => net({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'a' }] }),
      7,
      /^cni\.dev\/valid-attachments\[0\]\.ifname: required/,
    ],
  ];

  it.each(
    cases,
  )('%s: a spec error on stdout, non-zero exit, agent not called', async (_, patch, conf, code, msg) => {
    const o = await plugin({ ...ADD, ...patch }, conf());
    expect(o.exitCode).not.toBe(0);
    expect(o.doc).toMatchObject({ cniVersion: expect.any(String), code, msg: expect.stringMatching(msg) });
    for (const key of Object.keys(o.doc ?? {}))
      expect(['cniVersion', 'code', 'msg', 'details']).toContain(key);
    expect(requests).toEqual([]);
  });

  it('agent down: 11 "try again later" naming the socket (50 for STATUS)', async () => {
    const missing = join(dir, 'no-agent.sock');
    const add = await plugin(ADD, net({ agentSocket: missing }));
    expect(add.exitCode).toBe(1);
    expect(add.doc).toMatchObject({
      cniVersion: '1.0.0',
      code: 11,
      msg: `tabby agent at ${missing} is not reachable (ENOENT): try again later`,
    });
    const status = await plugin(
      { CNI_COMMAND: 'STATUS' },
      net({ cniVersion: '1.1.0', agentSocket: missing }),
    );
    expect(status.exitCode).toBe(1);
    expect(status.doc).toMatchObject({ cniVersion: '1.1.0', code: 50 });
  });

  it("passes the agent's error through", async () => {
    answer = () => ({ ok: false, error: { code: 101, msg: 'no IPv4 pool selects node n1' } });
    const o = await plugin(ADD, net());
    expect(o.exitCode).toBe(1);
    expect(o.doc).toEqual({ cniVersion: '1.0.0', code: 101, msg: 'no IPv4 pool selects node n1' });
  });

  it('VERSION needs no agent and no attachment variables', async () => {
    const o = await plugin({ CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
    expect(o).toMatchObject({ exitCode: 0 });
    expect(o.doc).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    expect(requests).toEqual([]);
  });

  const eth0 = { name: 'eth0', mac: '02:42:0a:f4:01:07', sandbox: '/var/run/netns/cni-test' };
  const ips = (withVersion: boolean) =>
    RESULT.ips.map((ip) => ({
      ...(withVersion ? { version: ip.address.includes(':') ? '6' : '4' } : {}),
      ...ip,
    }));
  it.each([
    ['0.3.1', ips(true), eth0],
    ['0.4.0', ips(true), eth0],
    ['1.0.0', ips(false), eth0],
    ['1.1.0', ips(false), { ...eth0, mtu: 1450 }],
  ])('ADD on %s: the result in that version', async (cniVersion, expectedIps, expectedEth0) => {
    const runtimeConfig = {
      dns: { Servers: ['10.96.0.10'], Searches: ['svc.cluster.local'], Options: ['ndots:5'] },
    };
    const o = await plugin(ADD, net({ cniVersion, runtimeConfig, capabilities: { dns: true } }));
    expect(o.exitCode).toBe(0);
    expect(o.doc).toEqual({
      cniVersion,
      interfaces: [{ name: 'cali0123456789a', mac: 'ee:ee:ee:ee:ee:ee' }, expectedEth0],
      ips: expectedIps,
      routes: RESULT.routes,
      dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'], options: ['ndots:5'] },
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      protocol: 1,
      verb: 'ADD',
      containerId: 'c0ffee01',
      ifname: 'eth0',
      netns: '/var/run/netns/cni-test',
      pod: { namespace: 'default', name: 'web-0', uid: 'u-1' },
      dns: { servers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
      conf: { network: 'k8s-pod-network', cniVersion, agentSocket: socket },
    });
  });

  it('DEL without a netns and GC succeed silently', async () => {
    answer = () => ({ ok: true });
    const del = await plugin({ ...ADD, CNI_COMMAND: 'DEL', CNI_NETNS: '' }, net());
    expect(del).toEqual({ exitCode: 0, stdout: '', doc: undefined });
    const gc = await plugin(
      { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' },
      net({
        cniVersion: '1.1.0',
        'cni.dev/valid-attachments': [{ containerID: 'c0ffee01', ifname: 'eth0' }],
      }),
    );
    expect(gc).toEqual({ exitCode: 0, stdout: '', doc: undefined });
    expect(requests.map((r) => r.verb)).toEqual(['DEL', 'GC']);
    expect(requests[1]?.validAttachments).toEqual([{ containerId: 'c0ffee01', ifname: 'eth0' }]);
  });
});
