import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { birdProtocolName, renderBirdConf } from './bird-config.js';
import { parseTopology } from './parse.js';

const TEXT = readFileSync(
  fileURLToPath(new URL('../topologies/two-racks-bird.clab.yml', import.meta.url)),
  'utf8',
);

describe('BIRD configuration (tabby.dev/bgp-daemon: bird)', () => {
  const t = parseTopology(TEXT);
  const tor2 = t.nodes.find((n) => n.name === 'tor2');
  if (!tor2) throw new Error('tor2');

  it('marks tor2 as a BIRD router, and only tor2', () => {
    expect(t.nodes.filter((n) => n.role === 'router').map((n) => `${n.name}:${n.daemon}`)).toEqual([
      'spine:frr',
      'tor1:frr',
      'tor2:bird',
    ]);
  });

  it('renders router id, device, direct, and a kernel protocol that installs BGP routes with ECMP', () => {
    const conf = renderBirdConf(t, tor2, { logFile: '/run/x/bird.log' });
    expect(conf).toContain('log "/run/x/bird.log" all;\nrouter id 198.18.255.12;');
    expect(conf).toContain('protocol device {');
    expect(conf).toContain('protocol direct {\n  ipv4;\n}');
    expect(conf).toContain(
      'protocol kernel kernel_ipv4 {\n  ipv4 {\n    import none;\n    export where source = RTS_BGP;\n  };\n  merge paths on;\n}',
    );
    expect(conf).not.toContain('ipv6');
  });

  it('renders one eBGP protocol per peer with an AS: spine and both servers', () => {
    const conf = renderBirdConf(t, tor2);
    expect(conf).toContain(
      [
        'protocol bgp bgp_spine_eth1 {',
        '  description "spine";',
        '  local 198.18.0.3 as 65002;',
        '  neighbor 198.18.0.2 as 65000;',
        '  direct;',
        '  hold time 9;',
        '  keepalive time 3;',
        '  connect retry time 5;',
        '  ipv4 {',
        '    import all;',
        '    export all;',
        '  };',
        '}',
      ].join('\n'),
    );
    expect(conf).toContain('neighbor 198.18.2.1 as 64603;');
    expect(conf).toContain('neighbor 198.18.2.3 as 64604;');
    expect(conf).not.toContain('password');
  });

  it('adds the password of a server that has one', () => {
    const pw = parseTopology(
      TEXT.replace(
        'tabby.dev/asn: "64603"',
        'tabby.dev/asn: "64603"\n        tabby.dev/bgp-password: s3cret',
      ),
    );
    const conf = renderBirdConf(pw, pw.nodes.find((n) => n.name === 'tor2') ?? tor2);
    expect(conf).toMatch(/neighbor 198\.18\.2\.1 as 64603;\n(?: {2}.*\n)*? {2}password "s3cret";/);
    expect(conf.match(/password/g)).toHaveLength(1);
  });

  it('names protocols as BIRD symbols', () => {
    expect(
      birdProtocolName({ peerNode: 'rack-a-1', interface: 'eth1.10', family: 6, address: '2001:2::1' }),
    ).toBe('bgp_rack_a_1_eth1_10_v6');
  });
});
