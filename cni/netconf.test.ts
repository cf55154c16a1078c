import { describe, expect, it } from 'vitest';
import { CniError } from './errors.js';
import { decodeNetConf, parseTabbyNetConf } from './netconf.js';
import { DEFAULT_AGENT_SOCKET } from './protocol.js';

const BASE = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby' };

function confError(doc: Record<string, unknown> | string): CniError {
  try {
    parseTabbyNetConf(typeof doc === 'string' ? decodeNetConf(doc) : doc);
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

describe('network config', () => {
  it('fills in the defaults', () => {
    expect(parseTabbyNetConf(BASE)).toEqual({
      network: 'k8s-pod-network',
      cniVersion: '1.0.0',
      agentSocket: DEFAULT_AGENT_SOCKET,
      mtu: 0,
      ipam: { assignIpv4: true, assignIpv6: false, pools: [] },
    });
  });

  it('reads every tabby field, and ignores keys it does not know', () => {
    const conf = parseTabbyNetConf({
      ...BASE,
      agentSocket: '/run/tabby/agent.sock',
      mtu: 1450,
      ipam: { type: 'ignored', assignIpv4: false, assignIpv6: true, pools: ['v6-pool', 'fd00::/48'] },
      dns: {
        nameservers: ['10.96.0.10'],
        domain: 'cluster.local',
        search: ['svc.cluster.local'],
        options: ['ndots:5'],
      },
      capabilities: { dns: true },
      runtimeConfig: { whatever: 1 },
      args: { cni: { labels: [] } },
      ipMasq: false,
    });
    expect(conf).toEqual({
      network: 'k8s-pod-network',
      cniVersion: '1.0.0',
      agentSocket: '/run/tabby/agent.sock',
      mtu: 1450,
      ipam: { assignIpv4: false, assignIpv6: true, pools: ['v6-pool', 'fd00::/48'] },
      dns: {
        nameservers: ['10.96.0.10'],
        domain: 'cluster.local',
        search: ['svc.cluster.local'],
        options: ['ndots:5'],
      },
    });
  });

  it('accepts the boundary MTUs', () => {
    expect(parseTabbyNetConf({ ...BASE, mtu: 68 }).mtu).toBe(68);
    expect(parseTabbyNetConf({ ...BASE, mtu: 65535 }).mtu).toBe(65535);
  });

  it.each([
    ['', 6, /^network config: stdin is empty/],
    ['{"cniVersion":', 6, /^network config: invalid JSON/],
    ['[1,2]', 6, /^network config: must be a JSON object/],
    ['"1.0.0"', 6, /^network config: must be a JSON object/],
  ])('refuses stdin %j with code %i', (stdin, code, msg) => {
    const e = confError(stdin);
    expect(e.code).toBe(code);
    expect(e.msg).toMatch(msg);
  });

  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ['no cniVersion', { cniVersion: undefined }, 7, /^cniVersion: required/],
    ['a numeric cniVersion', { cniVersion: 1 }, 7, /^cniVersion: must be a string/],
    ['a malformed cniVersion', { cniVersion: 'v1' }, 7, /^cniVersion: "v1" is not a version/],
    [
      'cniVersion 0.2.0',
      { cniVersion: '0.2.0' },
      1,
      /^cniVersion: "0\.2\.0" is not supported \(supported: 0\.3\.1, /,
    ],
    ['cniVersion 0.3.0', { cniVersion: '0.3.0' }, 1, /^cniVersion: "0\.3\.0" is not supported/],
    ['cniVersion 1.2.0', { cniVersion: '1.2.0' }, 1, /^cniVersion: "1\.2\.0" is not supported/],
    ['no name', { name: undefined }, 7, /^name: required/],
    ['a bad name', { name: 'k8s/pods' }, 7, /^name: "k8s\/pods" must match/],
    ['no type', { type: undefined }, 7, /^type: required/],
    [
      'a relative agentSocket',
      { agentSocket: 'cni.sock' },
      7,
      /^agentSocket: "cni\.sock" must be an absolute path/,
    ],
    ['a numeric agentSocket', { agentSocket: 5 }, 7, /^agentSocket: must be a string/],
    [
      'a too long agentSocket',
      { agentSocket: `/${'a'.repeat(107)}` },
      7,
      /^agentSocket: must be at most 107 bytes/,
    ],
    ['a string mtu', { mtu: '1500' }, 7, /^mtu: must be an integer/],
    ['a fractional mtu', { mtu: 1500.5 }, 7, /^mtu: must be an integer/],
    ['mtu 67', { mtu: 67 }, 7, /^mtu: 67 must be 0 \(agent decides\) or 68\.\.65535/],
    ['mtu 65536', { mtu: 65536 }, 7, /^mtu: 65536 must be 0/],
    ['a non-object ipam', { ipam: 'tabby' }, 7, /^ipam: must be an object/],
    ['a string assignIpv4', { ipam: { assignIpv4: 'true' } }, 7, /^ipam\.assignIpv4: must be a boolean/],
    ['a numeric assignIpv6', { ipam: { assignIpv6: 1 } }, 7, /^ipam\.assignIpv6: must be a boolean/],
    [
      'no family',
      { ipam: { assignIpv4: false } },
      7,
      /^ipam: at least one of ipam\.assignIpv4 and ipam\.assignIpv6/,
    ],
    ['a string pools', { ipam: { pools: 'default' } }, 7, /^ipam\.pools: must be an array of strings/],
    ['a numeric pool', { ipam: { pools: ['a', 3] } }, 7, /^ipam\.pools\[1\]: must be a string/],
    ['an empty pool', { ipam: { pools: [''] } }, 7, /^ipam\.pools\[0\]: must not be empty/],
    [
      'a bad dns',
      { dns: { nameservers: '10.96.0.10' } },
      7,
      /^dns\.nameservers: must be an array of strings/,
    ],
  ];
  it.each(cases)('refuses %s with code %i naming the field', (_, patch, code, msg) => {
    const e = confError({ ...BASE, ...patch });
    expect(e.code).toBe(code);
    expect(e.msg).toMatch(msg);
  });
});
