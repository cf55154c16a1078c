// runPlugin in-process, with a fake agent: what reaches the agent, what reaches stdout.
import { describe, expect, it } from 'vitest';
import { runPlugin } from './dispatch.js';
import { CniError } from './errors.js';
import type { AgentRequest, CniResult } from './protocol.js';

const NET = { cniVersion: '1.0.0', name: 'k8s', type: 'tabby', agentSocket: '/run/tabby/test.sock' };
const ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c0ffee',
  CNI_IFNAME: 'eth0',
  CNI_NETNS: '/var/run/netns/cni-1',
  CNI_PATH: '/opt/cni/bin',
};
const RESULT: CniResult = {
  interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450, sandbox: '/var/run/netns/cni-1' }],
  ips: [{ address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 0 }],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
  dns: { nameservers: ['192.0.2.53'] },
};
const PREV = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/cni-1' }],
  ips: [{ address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 0 }],
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when there is any. */
  doc: Record<string, unknown> | undefined;
  requests: { socket: string; request: AgentRequest }[];
}

async function invoke(
  env: Record<string, string | undefined>,
  stdin: Record<string, unknown> | string,
  agent: (r: AgentRequest) => Promise<CniResult | undefined> = async () => RESULT,
): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const requests: Outcome['requests'] = [];
  const code = await runPlugin(
    {
      env,
      stdin: typeof stdin === 'string' ? stdin : JSON.stringify(stdin),
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
    },
    {
      callAgent: (socket, request) => {
        requests.push({ socket, request });
        return agent(request);
      },
    },
  );
  return { code, stdout, stderr, doc: stdout ? JSON.parse(stdout) : undefined, requests };
}

describe('VERSION', () => {
  it('answers locally, without CNI_CONTAINERID & co, echoing the input cniVersion', async () => {
    const o = await invoke({ CNI_COMMAND: 'VERSION' }, { cniVersion: '0.4.0' });
    expect(o).toMatchObject({ code: 0, requests: [] });
    expect(o.doc).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('answers 1.1.0 without input, and with libcni dummies', async () => {
    expect((await invoke({ CNI_COMMAND: 'VERSION' }, '')).doc?.cniVersion).toBe('1.1.0');
    const dummies = { CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' };
    expect((await invoke(dummies, { cniVersion: '1.0.0' })).doc?.cniVersion).toBe('1.0.0');
  });
});

describe('errors', () => {
  const cases: [
    string,
    Record<string, string | undefined>,
    Record<string, unknown> | string,
    number,
    RegExp,
  ][] = [
    ['no CNI_COMMAND', { CNI_COMMAND: undefined }, NET, 4, /^CNI_COMMAND: required/],
    ['an unknown CNI_COMMAND', { CNI_COMMAND: 'UP' }, NET, 4, /^CNI_COMMAND: unknown command "UP"/],
    ['no CNI_CONTAINERID', { CNI_CONTAINERID: undefined }, NET, 4, /^CNI_CONTAINERID: required for ADD/],
    ['no CNI_NETNS on ADD', { CNI_NETNS: '' }, NET, 4, /^CNI_NETNS: required for ADD/],
    ['a bad CNI_IFNAME', { CNI_IFNAME: 'eth0:1' }, NET, 4, /^CNI_IFNAME: "eth0:1"/],
    ['a malformed CNI_ARGS', { CNI_ARGS: 'K8S_POD_NAME' }, NET, 4, /^CNI_ARGS: "K8S_POD_NAME" is not/],
    ['an unknown CNI_ARGS key', { CNI_ARGS: 'FOO=1' }, NET, 2, /^CNI_ARGS: unknown args "FOO=1"/],
    ['malformed JSON', {}, '{"cniVersion": "1.0.0",', 6, /^network config: invalid JSON/],
    ['no cniVersion', {}, { ...NET, cniVersion: undefined }, 7, /^cniVersion: required/],
    [
      'an unsupported cniVersion',
      {},
      { ...NET, cniVersion: '0.2.0' },
      1,
      /^cniVersion: "0\.2\.0" is not supported/,
    ],
    ['no name', {}, { ...NET, name: undefined }, 7, /^name: required/],
    [
      'a bad ipam field',
      {},
      { ...NET, ipam: { assignIpv4: 'yes' } },
      7,
      /^ipam\.assignIpv4: must be a boolean/,
    ],
    ['a bad mtu', {}, { ...NET, mtu: 10 }, 7, /^mtu: 10 must be 0/],
    [
      'a bad runtimeConfig.dns',
      {},
      { ...NET, runtimeConfig: { dns: { Servers: 'x' } } },
      7,
      /^runtimeConfig\.dns\.Servers: must be/,
    ],
  ];
  it.each(
    cases,
  )('%s: code %i on stdout, exit 1, nothing sent to the agent', async (_, patch, conf, code, msg) => {
    const o = await invoke({ ...ENV, ...patch }, conf);
    expect(o.code).toBe(1);
    expect(o.requests).toEqual([]);
    expect(o.doc).toMatchObject({ code, msg: expect.stringMatching(msg) });
    expect(Object.keys(o.doc ?? {})).toEqual(expect.arrayContaining(['cniVersion', 'code', 'msg']));
  });

  it('checks the environment before the config (as skel)', async () => {
    const o = await invoke({ ...ENV, CNI_IFNAME: undefined }, '{');
    expect(o.doc).toMatchObject({ code: 4 });
  });

  it("writes errors in the config's cniVersion when it is supported, else 1.1.0", async () => {
    expect(
      (await invoke({ ...ENV, CNI_NETNS: undefined }, { ...NET, cniVersion: '0.3.1' })).doc?.cniVersion,
    ).toBe('0.3.1');
    expect((await invoke(ENV, { ...NET, cniVersion: '9.9.9' })).doc?.cniVersion).toBe('1.1.0');
    expect((await invoke(ENV, '{')).doc?.cniVersion).toBe('1.1.0');
  });

  it("passes the agent's error through", async () => {
    const o = await invoke(ENV, NET, async () => {
      throw new CniError(101, 'ipam: pool default exhausted', 'node n1');
    });
    expect(o.code).toBe(1);
    expect(o.doc).toEqual({
      cniVersion: '1.0.0',
      code: 101,
      msg: 'ipam: pool default exhausted',
      details: 'node n1',
    });
  });

  it('turns an unexpected exception into code 100, with the stack on stderr', async () => {
    const o = await invoke(ENV, NET, async () => {
      throw new TypeError('boom');
    });
    expect(o.doc).toEqual({
      cniVersion: '1.0.0',
      code: 100,
      msg: 'tabby plugin: unexpected error',
      details: 'boom',
    });
    expect(o.stderr).toMatch(/TypeError: boom/);
  });

  it('is code 100 when the agent answers ADD without a result', async () => {
    const o = await invoke(ENV, NET, async () => undefined);
    expect(o.doc).toMatchObject({ code: 100, msg: 'tabby agent answered ADD without a result' });
  });
});

describe('ADD', () => {
  it('sends the validated request to the config’s socket and prints the result', async () => {
    const o = await invoke(
      { ...ENV, CNI_ARGS: 'K8S_POD_UID=u1;IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_NAMESPACE=default' },
      { ...NET, mtu: 1450, prevResult: PREV, capabilities: { dns: true } },
    );
    expect(o.code).toBe(0);
    expect(o.requests).toEqual([
      {
        socket: '/run/tabby/test.sock',
        request: {
          protocol: 1,
          verb: 'ADD',
          containerId: 'c0ffee',
          ifname: 'eth0',
          netns: '/var/run/netns/cni-1',
          pod: { uid: 'u1', name: 'web', namespace: 'default' },
          conf: {
            network: 'k8s',
            cniVersion: '1.0.0',
            agentSocket: '/run/tabby/test.sock',
            mtu: 1450,
            ipam: { assignIpv4: true, assignIpv6: false, pools: [] },
          },
        },
      },
    ]);
    expect(o.doc).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/cni-1' }],
      ips: [{ address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      dns: { nameservers: ['192.0.2.53'] },
    });
  });

  it.each([
    ['0.3.1', { version: '4' }, false],
    ['0.4.0', { version: '4' }, false],
    ['1.0.0', {}, false],
    ['1.1.0', {}, true],
  ])('answers a %s config in %s', async (cniVersion, ipExtra, hasMtu) => {
    const o = await invoke(ENV, { ...NET, cniVersion });
    expect(o.doc?.cniVersion).toBe(cniVersion);
    expect(o.doc?.ips).toEqual([
      { ...ipExtra, address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 0 },
    ]);
    expect((o.doc?.interfaces as { mtu?: number }[])[0]?.mtu).toBe(hasMtu ? 1450 : undefined);
  });

  it('passes runtimeConfig.dns with containerd’s capitalised keys and puts it into the result', async () => {
    const dns = {
      Servers: ['10.96.0.10'],
      Searches: ['default.svc.cluster.local', 'cluster.local'],
      Options: ['ndots:5'],
    };
    const o = await invoke(ENV, {
      ...NET,
      dns: { nameservers: ['192.0.2.1'] },
      runtimeConfig: { dns, 'io.kubernetes.cri.pod-annotations': { a: 'b' } },
    });
    expect(o.requests[0]?.request.dns).toEqual({
      servers: ['10.96.0.10'],
      searches: ['default.svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
    expect(o.doc?.dns).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['default.svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
  });

  it('accepts the lower-case capability keys too', async () => {
    const o = await invoke(ENV, { ...NET, runtimeConfig: { dns: { servers: ['10.96.0.10'] } } });
    expect(o.doc?.dns).toEqual({ nameservers: ['10.96.0.10'] });
  });

  it("uses the config's dns when the runtime sends none, else the agent's", async () => {
    const conf = { nameservers: ['192.0.2.1'], domain: 'example.org' };
    expect((await invoke(ENV, { ...NET, dns: conf, runtimeConfig: { dns: {} } })).doc?.dns).toEqual(conf);
    expect((await invoke(ENV, NET)).doc?.dns).toEqual({ nameservers: ['192.0.2.53'] });
  });
});

describe('DEL and CHECK', () => {
  it('DEL: no netns, no prevResult (containerd’s second DEL) is fine, and prints nothing', async () => {
    const o = await invoke({ ...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: '' }, NET);
    expect(o).toMatchObject({ code: 0, stdout: '' });
    expect(o.requests[0]?.request).toEqual({
      protocol: 1,
      verb: 'DEL',
      containerId: 'c0ffee',
      ifname: 'eth0',
      conf: expect.objectContaining({ network: 'k8s' }),
    });
  });

  it('DEL: passes prevResult in neutral form, and drops an unreadable one with a warning', async () => {
    const ok = await invoke(
      { ...ENV, CNI_COMMAND: 'DEL' },
      {
        ...NET,
        cniVersion: '0.3.1',
        prevResult: { ...PREV, ips: [{ version: '4', address: '10.244.1.7/32' }] },
      },
    );
    expect(ok.requests[0]?.request.prevResult).toEqual({
      interfaces: PREV.interfaces,
      ips: [{ address: '10.244.1.7/32' }],
      routes: [],
      dns: {},
    });
    const bad = await invoke(
      { ...ENV, CNI_COMMAND: 'DEL' },
      { ...NET, prevResult: { ips: [{ address: 'x' }] } },
    );
    expect(bad.code).toBe(0);
    expect(bad.requests[0]?.request.prevResult).toBeUndefined();
    expect(bad.stderr).toMatch(/DEL: ignoring unreadable prevResult: prevResult\.ips\[0\]\.address/);
  });

  it('CHECK: sends prevResult, prints nothing', async () => {
    const o = await invoke({ ...ENV, CNI_COMMAND: 'CHECK' }, { ...NET, prevResult: PREV });
    expect(o).toMatchObject({ code: 0, stdout: '' });
    expect(o.requests[0]?.request).toMatchObject({ verb: 'CHECK', netns: '/var/run/netns/cni-1' });
    expect(o.requests[0]?.request.prevResult?.ips).toEqual(PREV.ips);
  });

  it.each([
    ['without prevResult', { ...NET }, 7, /^prevResult: required for CHECK/],
    [
      'with a bad prevResult',
      { ...NET, prevResult: { ips: [{}] } },
      7,
      /^prevResult\.ips\[0\]\.address: required/,
    ],
    ['below 0.4.0', { ...NET, cniVersion: '0.3.1', prevResult: PREV }, 1, /CHECK needs cniVersion 0\.4\.0/],
  ])('CHECK %s is refused', async (_, conf, code, msg) => {
    const o = await invoke({ ...ENV, CNI_COMMAND: 'CHECK' }, conf);
    expect(o.requests).toEqual([]);
    expect(o.doc).toMatchObject({ code, msg: expect.stringMatching(msg) });
  });
});

describe('GC and STATUS', () => {
  const NET11 = { ...NET, cniVersion: '1.1.0' };
  const GC_ENV = { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' };

  it('GC takes the union of cni.dev/valid-attachments and cni.dev/attachments', async () => {
    const o = await invoke(GC_ENV, {
      ...NET11,
      'cni.dev/valid-attachments': [
        { containerID: 'a1', ifname: 'eth0' },
        { containerID: 'b2', ifname: 'eth0' },
      ],
      'cni.dev/attachments': [
        { containerID: 'b2', ifname: 'eth0' },
        { containerID: 'c3', ifname: 'net1' },
      ],
    });
    expect(o).toMatchObject({ code: 0, stdout: '' });
    expect(o.requests[0]?.request).toEqual({
      protocol: 1,
      verb: 'GC',
      conf: expect.objectContaining({ network: 'k8s', cniVersion: '1.1.0' }),
      validAttachments: [
        { containerId: 'a1', ifname: 'eth0' },
        { containerId: 'b2', ifname: 'eth0' },
        { containerId: 'c3', ifname: 'net1' },
      ],
    });
  });

  it('GC reads either key alone, and neither means no attachment is valid', async () => {
    const old = await invoke(GC_ENV, {
      ...NET11,
      'cni.dev/attachments': [{ containerID: 'a1', ifname: 'eth0' }],
    });
    expect(old.requests[0]?.request.validAttachments).toEqual([{ containerId: 'a1', ifname: 'eth0' }]);
    const none = await invoke(GC_ENV, NET11);
    expect(none.requests[0]?.request.validAttachments).toEqual([]);
  });

  it.each([
    [{ 'cni.dev/valid-attachments': {} }, /^cni\.dev\/valid-attachments: must be an array/],
    [{ 'cni.dev/attachments': [{ ifname: 'eth0' }] }, /^cni\.dev\/attachments\[0\]\.containerID: required/],
    [
      { 'cni.dev/valid-attachments': [{ containerID: '-x', ifname: 'eth0' }] },
      /containerID: "-x" must match/,
    ],
    [
      { 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'a/b' }] },
      /\[0\]\.ifname: "a\/b" must not/,
    ],
  ])('GC refuses a bad attachment list %j with code 7', async (extra, msg) => {
    const o = await invoke(GC_ENV, { ...NET11, ...extra });
    expect(o.requests).toEqual([]);
    expect(o.doc).toMatchObject({ code: 7, msg: expect.stringMatching(msg) });
  });

  it('STATUS sends just the config and prints nothing', async () => {
    const o = await invoke({ CNI_COMMAND: 'STATUS' }, NET11);
    expect(o).toMatchObject({ code: 0, stdout: '' });
    expect(o.requests[0]?.request).toEqual({
      protocol: 1,
      verb: 'STATUS',
      conf: expect.objectContaining({ network: 'k8s' }),
    });
  });

  it.each(['GC', 'STATUS'])('%s needs cniVersion 1.1.0 (code 1)', async (command) => {
    const o = await invoke({ CNI_COMMAND: command }, NET);
    expect(o.requests).toEqual([]);
    expect(o.doc).toMatchObject({
      code: 1,
      msg: `cniVersion: ${command} needs cniVersion 1.1.0 or newer, the config has 1.0.0`,
    });
  });
});
