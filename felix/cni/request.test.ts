import { describe, expect, it } from 'vitest';
import { type AgentRequest, CNI_ERROR, PROTOCOL_VERSION } from '../../cni/protocol.js';
import { AgentError } from '../errors.js';
import { attachmentOf, ipamOf, netnsOf, networkOf } from './request.js';

const base = (): AgentRequest => ({
  protocol: PROTOCOL_VERSION,
  verb: 'ADD',
  containerId: 'f1e2d3c4b5a6',
  ifname: 'eth0',
  netns: '/var/run/netns/cni-1234',
  conf: {
    network: 'k8s-pod-network',
    cniVersion: '1.1.0',
    agentSocket: '/var/run/tabby/cni.sock',
    mtu: 0,
    ipam: { assignIpv4: true, assignIpv6: false, pools: [] },
  },
});

/** `base()` with request fields (`over`, which may replace the whole config) and config fields replaced. */
function req(over: Record<string, unknown> = {}, conf: Record<string, unknown> = {}): AgentRequest {
  const r = { ...base(), conf: { ...base().conf, ...conf }, ...over } as Record<string, unknown>;
  return r as unknown as AgentRequest;
}

function failure(fn: () => unknown): { code: number; msg: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AgentError);
    return { code: (e as AgentError).cniCode, msg: (e as AgentError).message };
  }
  throw new Error('expected a failure');
}

describe('attachmentOf', () => {
  it('returns container id, ifname and network of a good request', () => {
    expect(attachmentOf(base())).toEqual({
      containerId: 'f1e2d3c4b5a6',
      ifname: 'eth0',
      network: 'k8s-pod-network',
    });
    expect(attachmentOf(req({ containerId: 'a_b.c-d', ifname: 'net1.100@x' }))).toMatchObject({
      containerId: 'a_b.c-d',
      ifname: 'net1.100@x',
    });
    expect(attachmentOf(req({ ifname: 'a'.repeat(15) })).ifname).toHaveLength(15);
  });

  it.each([
    undefined,
    '',
    '-starts-with-dash',
    '.hidden',
    'has/slash',
    'has space',
    'semi;colon',
  ])('CNI_CONTAINERID %j: code 4', (containerId) => {
    const { code, msg } = failure(() => attachmentOf(req({ containerId })));
    expect(code).toBe(CNI_ERROR.invalidEnv);
    expect(msg).toMatch(/^CNI_CONTAINERID: /);
  });

  it.each([
    undefined,
    '',
    '.',
    '..',
    'a'.repeat(16),
    'eth/0',
    'eth:0',
    'eth 0',
    'eth0\n',
  ])('CNI_IFNAME %j: code 4', (ifname) => {
    const { code, msg } = failure(() => attachmentOf(req({ ifname })));
    expect(code).toBe(CNI_ERROR.invalidEnv);
    expect(msg).toMatch(/^CNI_IFNAME: /);
  });

  it.each([undefined, '', '-net', 'my net', 'a/b'])('network name %j: code 7', (network) => {
    const { code, msg } = failure(() => attachmentOf(req({}, { network })));
    expect(code).toBe(CNI_ERROR.invalidConfig);
    expect(msg).toMatch(/^name: /);
    expect(failure(() => networkOf(req({}, { network })))).toEqual({ code, msg });
  });

  it('a missing config is a bad network name (code 7)', () => {
    const { code, msg } = failure(() => attachmentOf(req({ conf: undefined })));
    expect(code).toBe(CNI_ERROR.invalidConfig);
    expect(msg).toMatch(/^name: /);
  });

  it('checks the container id first, then ifname, then the network', () => {
    expect(failure(() => attachmentOf(req({ containerId: '', ifname: '' }, { network: '' }))).msg).toMatch(
      /^CNI_CONTAINERID/,
    );
    expect(failure(() => attachmentOf(req({ ifname: '' }, { network: '' }))).msg).toMatch(/^CNI_IFNAME/);
  });
});

describe('netnsOf', () => {
  it('returns an absolute path', () => {
    expect(netnsOf(base(), 'ADD')).toBe('/var/run/netns/cni-1234');
    expect(netnsOf(req({ netns: '/proc/4242/ns/net' }), 'CHECK')).toBe('/proc/4242/ns/net');
  });

  it.each([
    undefined,
    '',
    'var/run/netns/x',
    './x',
    '/var/run/netns/../../etc',
    '/with space',
    '/semi;colon',
    '/new\nline',
  ])('CNI_NETNS %j: code 4, naming the verb', (netns) => {
    const { code, msg } = failure(() => netnsOf(req({ netns }), 'CHECK'));
    expect(code).toBe(CNI_ERROR.invalidEnv);
    expect(msg).toMatch(/^CNI_NETNS: /);
    expect(msg).toContain('required for CHECK');
  });
});

describe('ipamOf', () => {
  it('returns the IPAM config', () => {
    expect(ipamOf(base())).toEqual({ assignIpv4: true, assignIpv6: false, pools: [] });
    const ipam = { assignIpv4: false, assignIpv6: true, pools: ['default-v6', 'fd00::/48'] };
    expect(ipamOf(req({}, { ipam }))).toEqual(ipam);
  });

  it.each<[string, unknown]>([
    ['ipam', undefined],
    ['ipam', null],
    ['ipam', 'on'],
    ['ipam.assignIpv4', { assignIpv6: true, pools: [] }],
    ['ipam.assignIpv4', { assignIpv4: 'true', assignIpv6: true, pools: [] }],
    ['ipam.assignIpv6', { assignIpv4: true, pools: [] }],
    ['ipam.assignIpv6', { assignIpv4: true, assignIpv6: 1, pools: [] }],
    ['ipam', { assignIpv4: false, assignIpv6: false, pools: [] }],
    ['ipam.pools', { assignIpv4: true, assignIpv6: false }],
    ['ipam.pools', { assignIpv4: true, assignIpv6: false, pools: 'default' }],
    ['ipam.pools', { assignIpv4: true, assignIpv6: false, pools: ['default', 7] }],
  ])('%s: code 7 for %j', (field, ipam) => {
    const { code, msg } = failure(() => ipamOf(req({}, { ipam })));
    expect(code).toBe(CNI_ERROR.invalidConfig);
    expect(msg.startsWith(`${field}: `)).toBe(true);
  });

  it('a missing config is a missing ipam (code 7)', () => {
    expect(failure(() => ipamOf(req({ conf: undefined })))).toEqual({
      code: CNI_ERROR.invalidConfig,
      msg: 'ipam: missing',
    });
  });
});
