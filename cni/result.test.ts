import { describe, expect, it } from 'vitest';
import { CniError } from './errors.js';
import type { CniResult } from './protocol.js';
import { parseResult } from './result-parse.js';
import { renderResult } from './result-render.js';
import { compareVersions, SUPPORTED_VERSIONS } from './versions.js';

const NEUTRAL: CniResult = {
  interfaces: [
    { name: 'cali1234567890a', mac: 'ee:ee:ee:ee:ee:ee' },
    { name: 'eth0', mac: '02:42:0a:f4:01:07', mtu: 1450, sandbox: '/var/run/netns/cni-1' },
  ],
  ips: [
    { address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 1 },
    { address: 'fd00:10:244::7/128', gateway: 'fe80::ecee:eeff:feee:eeee', interface: 1 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }, { dst: '::/0' }],
  dns: { nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local'], options: ['ndots:5'] },
};

describe('result rendering', () => {
  it('0.3.1 and 0.4.0 carry ips[].version and no interface mtu', () => {
    for (const v of ['0.3.1', '0.4.0'] as const) {
      const r = renderResult(NEUTRAL, v);
      expect(r.cniVersion).toBe(v);
      expect(r.ips).toEqual([
        { version: '4', address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 1 },
        { version: '6', address: 'fd00:10:244::7/128', gateway: 'fe80::ecee:eeff:feee:eeee', interface: 1 },
      ]);
      expect(r.interfaces[1]).toEqual({
        name: 'eth0',
        mac: '02:42:0a:f4:01:07',
        sandbox: '/var/run/netns/cni-1',
      });
    }
  });

  it('1.0.0 drops ips[].version and keeps 1.1.0 fields out', () => {
    const r = renderResult(NEUTRAL, '1.0.0');
    expect(r).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cali1234567890a', mac: 'ee:ee:ee:ee:ee:ee' },
        { name: 'eth0', mac: '02:42:0a:f4:01:07', sandbox: '/var/run/netns/cni-1' },
      ],
      ips: NEUTRAL.ips,
      routes: NEUTRAL.routes,
      dns: NEUTRAL.dns,
    });
    expect(JSON.stringify(r)).not.toMatch(/"version"|"mtu"/);
  });

  it('1.1.0 carries the interface mtu', () => {
    expect(renderResult(NEUTRAL, '1.1.0')).toEqual({ cniVersion: '1.1.0', ...NEUTRAL });
  });

  it('renders an empty result with all four lists', () => {
    expect(renderResult({ interfaces: [], ips: [], routes: [], dns: {} }, '0.3.1')).toEqual({
      cniVersion: '0.3.1',
      interfaces: [],
      ips: [],
      routes: [],
      dns: {},
    });
  });
});

describe('result parsing (prevResult)', () => {
  it.each(SUPPORTED_VERSIONS)('round-trips a %s result to the neutral form', (v) => {
    const rendered = JSON.parse(JSON.stringify(renderResult(NEUTRAL, v)));
    const parsed = parseResult(rendered, 'prevResult');
    const expected =
      compareVersions(v, '1.1.0') < 0
        ? { ...NEUTRAL, interfaces: NEUTRAL.interfaces.map(({ mtu: _, ...i }) => i) }
        : NEUTRAL;
    expect(parsed).toEqual(expected);
    expect(renderResult(parsed, v)).toEqual(rendered);
  });

  it('reads abbreviated (IPAM-style) results and drops fields the neutral form has no place for', () => {
    expect(
      parseResult(
        {
          cniVersion: '1.1.0',
          interfaces: [{ name: 'eth0', socketPath: '/x', pciID: '0000:00:01.0' }],
          ips: [{ address: '10.254.0.2/30', gateway: '10.254.0.1' }],
          routes: [{ dst: '0.0.0.0/0', mtu: 1400, advmss: 1360, priority: 5, table: 100, scope: 0 }],
        },
        'prevResult',
      ),
    ).toEqual({
      interfaces: [{ name: 'eth0' }],
      ips: [{ address: '10.254.0.2/30', gateway: '10.254.0.1' }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    });
    expect(parseResult({}, 'prevResult')).toEqual({ interfaces: [], ips: [], routes: [], dns: {} });
  });

  it.each([
    ['a non-object', [], /^prevResult: must be an object/],
    ['an interface without name', { interfaces: [{}] }, /^prevResult\.interfaces\[0\]\.name: required/],
    [
      'a bare address',
      { ips: [{ address: '10.0.0.1' }] },
      /^prevResult\.ips\[0\]\.address: "10\.0\.0\.1" is not/,
    ],
    ['a /33', { ips: [{ address: '10.0.0.1/33' }] }, /^prevResult\.ips\[0\]\.address: /],
    [
      'a version that lies',
      { ips: [{ version: '6', address: '10.0.0.1/32' }] },
      /^prevResult\.ips\[0\]\.version: "6"/,
    ],
    [
      'a bad gateway',
      { ips: [{ address: '10.0.0.1/32', gateway: 'x' }] },
      /^prevResult\.ips\[0\]\.gateway: "x"/,
    ],
    [
      'a negative index',
      { ips: [{ address: '10.0.0.1/32', interface: -1 }] },
      /^prevResult\.ips\[0\]\.interface/,
    ],
    ['a bad route', { routes: [{ dst: 'default' }] }, /^prevResult\.routes\[0\]\.dst: "default"/],
    ['a bad route gw', { routes: [{ dst: '::/0', gw: 'fe80::1%eth0x' }] }, /^prevResult\.routes\[0\]\.gw/],
    ['a string ips', { ips: 'x' }, /^prevResult\.ips: must be an array/],
    ['a bad dns', { dns: { search: [1] } }, /^prevResult\.dns\.search\[0\]: must be a string/],
  ])('refuses %s with code 7 naming the field', (_, doc, msg) => {
    let error: unknown;
    try {
      parseResult(doc, 'prevResult');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CniError);
    expect((error as CniError).code).toBe(7);
    expect((error as CniError).msg).toMatch(msg);
  });
});
