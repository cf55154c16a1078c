import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTopology } from './parse.js';
import { TopologyError } from './types.js';

const TWO_RACKS = readFileSync(
  fileURLToPath(new URL('../topologies/two-racks.clab.yml', import.meta.url)),
  'utf8',
);

/** The issues a topology text produces (empty when valid). */
function issues(text: string): string[] {
  try {
    parseTopology(text);
    return [];
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

const minimal = (body: string) => `name: t\ntopology:\n${body}`;

describe('parseTopology', () => {
  it('reads two-racks: roles, AS numbers, loopbacks, link addresses, gateways', () => {
    const t = parseTopology(TWO_RACKS);
    expect(t.name).toBe('two-racks');
    expect(t.nodes.map((n) => `${n.name}:${n.role}:${n.asn ?? '-'}`)).toEqual([
      'node1:node:64601',
      'node2:node:64602',
      'node3:node:64603',
      'node4:node:64604',
      'spine:router:65000',
      'tor1:router:65001',
      'tor2:router:65002',
    ]);
    const tor1 = t.nodes.find((n) => n.name === 'tor1');
    expect(tor1?.routerId).toBe('198.18.255.11');
    expect(
      tor1?.interfaces.map((i) => `${i.name}→${i.peerNode}:${i.peerInterface} ${i.addresses[0]?.address}`),
    ).toEqual(['eth1→spine:eth1 198.18.0.1', 'eth2→node1:eth1 198.18.1.0', 'eth3→node2:eth1 198.18.1.2']);
    expect(t.nodes.find((n) => n.name === 'node4')?.gateway4).toBe('198.18.2.2');
    expect(t.nodes.find((n) => n.name === 'spine')?.gateway4).toBeUndefined();
    expect(t.links).toHaveLength(6);
  });

  it('renames the lab with --name', () => {
    expect(parseTopology(TWO_RACKS, { name: 'other' }).name).toBe('other');
    expect(() => parseTopology(TWO_RACKS, { name: 'Bad_Name' })).toThrow(/--name: required: lowercase/);
  });

  it('applies containerlab defaults and kinds (labels merged)', () => {
    const t = parseTopology(
      minimal(`  defaults: { kind: linux, labels: { tabby.dev/role: node } }
  kinds: { linux: { image: debian } }
  nodes:
    a: { labels: { tabby.dev/role: router, tabby.dev/asn: 65000, tabby.dev/router-id: 198.18.255.9 } }
    b: {}
`),
    );
    expect(t.nodes.map((n) => [n.name, n.kind, n.image, n.role, n.asn])).toEqual([
      ['a', 'linux', 'debian', 'router', 65000],
      ['b', 'linux', 'debian', 'node', undefined],
    ]);
  });

  it('supports IPv6 links and gateways', () => {
    const t = parseTopology(
      minimal(`  nodes:
    r: { kind: linux, labels: { tabby.dev/role: router, tabby.dev/asn: "65000", tabby.dev/loopback: "198.18.255.1/32,2001:2:ff::1/128" } }
    n: { kind: linux }
  links:
    - endpoints: ["r:eth1", "n:eth1"]
      labels: { tabby.dev/ipv4: 198.18.0.0/31, tabby.dev/ipv6: "2001:2::/127" }
`),
    );
    const n = t.nodes.find((x) => x.name === 'n');
    expect(n?.interfaces[0]?.addresses.map((a) => `${a.address}/${a.prefixLength}`)).toEqual([
      '198.18.0.1/31',
      '2001:2::1/127',
    ]);
    expect([n?.gateway4, n?.gateway6]).toEqual(['198.18.0.0', '2001:2::']);
    expect(t.nodes.find((x) => x.name === 'r')?.loopbacks).toHaveLength(2);
  });

  it.each([
    ['a YAML syntax error', 'name: [x\n', /line \d+:/],
    ['an unknown top-level key', `${TWO_RACKS}\nx-tabby: {}\n`, /x-tabby: unknown top-level key/],
    ['a missing name', TWO_RACKS.replace('name: two-racks', ''), /^name: required/],
    ['no nodes', 'name: t\ntopology: { nodes: {} }\n', /topology\.nodes: required: at least one node/],
    [
      'an unsupported kind',
      TWO_RACKS.replace(/node1:\n {6}kind: linux/, 'node1:\n      kind: nokia_srlinux'),
      /topology\.nodes\.node1\.kind: "nokia_srlinux" is not supported/,
    ],
    [
      'an unknown role',
      TWO_RACKS.replace('tabby.dev/role: router', 'tabby.dev/role: switch'),
      /topology\.nodes\.spine\.labels\["tabby\.dev\/role"\]: "switch" is not a role/,
    ],
    [
      'a router without AS',
      TWO_RACKS.replace('tabby.dev/asn: "65000"', ''),
      /topology\.nodes\.spine\.labels\["tabby\.dev\/asn"\]: required for routers/,
    ],
    ['an AS out of range', TWO_RACKS.replace('"65000"', '"4294967296"'), /"4294967296" is not an AS number/],
    [
      'a misspelt tabby label',
      TWO_RACKS.replace('tabby.dev/loopback: 198.18.255.1/32', 'tabby.dev/lookback: 198.18.255.1/32'),
      /\["tabby\.dev\/lookback"\]: unknown tabby label/,
    ],
    [
      'a bad loopback',
      TWO_RACKS.replace('198.18.255.1/32', '198.18.255.300/32'),
      /spine\.labels\["tabby\.dev\/loopback"\]: "198\.18\.255\.300" is not/,
    ],
    [
      'an unknown node in a link',
      TWO_RACKS.replace('"tor2:eth3", "node4:eth1"', '"tor2:eth3", "node9:eth1"'),
      /topology\.links\[5\]\.endpoints\[1\]: unknown node "node9"/,
    ],
    [
      'a duplicate interface',
      TWO_RACKS.replace('"tor1:eth3"', '"tor1:eth2"'),
      /topology\.links\[3\]\.endpoints\[0\]: duplicate interface tor1:eth2 \(already used by topology\.links\[2\]\.endpoints\[0\]\)/,
    ],
    [
      'eth0 (containerlab management)',
      TWO_RACKS.replace('"tor1:eth3"', '"tor1:eth0"'),
      /eth0 is containerlab's management interface/,
    ],
    [
      'an over-long interface name',
      TWO_RACKS.replace('"tor1:eth3"', '"tor1:ethernet-port-17"'),
      /"ethernet-port-17" is not a valid interface name/,
    ],
    [
      'a malformed endpoint',
      TWO_RACKS.replace('"tor1:eth3"', '"tor1"'),
      /topology\.links\[3\]\.endpoints\[0\]: "tor1" is not "node:interface"/,
    ],
    [
      'three endpoints',
      TWO_RACKS.replace('["tor1:eth3", "node2:eth1"]', '["tor1:eth3", "node2:eth1", "node3:eth2"]'),
      /topology\.links\[3\]\.endpoints: must have exactly 2 endpoints, has 3/,
    ],
    [
      'a bad link CIDR',
      TWO_RACKS.replace('ipv4: 198.18.2.2/31', 'ipv4: 198.18.2.2/33'),
      /topology\.links\[5\]\.labels\["tabby\.dev\/ipv4"\]: .*invalid prefix length/,
    ],
    [
      'host bits in a link CIDR',
      TWO_RACKS.replace('ipv4: 198.18.2.2/31', 'ipv4: 198.18.2.3/31'),
      /links\[5\].*host bits set/,
    ],
    [
      'the wrong family',
      TWO_RACKS.replace('tabby.dev/ipv4: 198.18.2.2/31', 'tabby.dev/ipv4: "2001:2::/127"'),
      /links\[5\].*is not an IPv4 prefix/,
    ],
    [
      'overlapping links',
      TWO_RACKS.replace('ipv4: 198.18.2.2/31', 'ipv4: 198.18.2.0/30'),
      /links\[5\].*198\.18\.2\.0\/30 overlaps 198\.18\.2\.0\/31 of topology\.links\[4\]/,
    ],
    [
      'a loopback inside a link',
      TWO_RACKS.replace('198.18.255.12/32', '198.18.0.3/32'),
      /tor2\.labels\["tabby\.dev\/loopback"\]: 198\.18\.0\.3 is inside 198\.18\.0\.2\/31/,
    ],
    [
      'a gateway off-link',
      TWO_RACKS.replace(
        /(node1:\n(?:.*\n){3}\s+tabby\.dev\/role: node)/,
        '$1\n        tabby.dev/gateway4: 198.18.9.9',
      ),
      /node1\.labels\["tabby\.dev\/gateway4"\]: 198\.18\.9\.9 is not inside any/,
    ],
    [
      'an unknown BGP daemon',
      TWO_RACKS.replace(
        'tabby.dev/asn: "65002"',
        'tabby.dev/asn: "65002"\n        tabby.dev/bgp-daemon: quagga',
      ),
      /topology\.nodes\.tor2\.labels\["tabby\.dev\/bgp-daemon"\]: "quagga" is not a BGP daemon \(frr or bird\)/,
    ],
    [
      'a BGP daemon on a server',
      TWO_RACKS.replace(
        'tabby.dev/asn: "64603"',
        'tabby.dev/asn: "64603"\n        tabby.dev/bgp-daemon: bird',
      ),
      /nodes\.node3\.labels\["tabby\.dev\/bgp-daemon"\]: only routers run a lab BGP daemon/,
    ],
    [
      'a password with a space',
      TWO_RACKS.replace(
        'tabby.dev/asn: "64603"',
        'tabby.dev/asn: "64603"\n        tabby.dev/bgp-password: "a b"',
      ),
      /nodes\.node3\.labels\["tabby\.dev\/bgp-password"\]: 1-80 printable characters without spaces/,
    ],
    [
      'two different passwords on one session',
      TWO_RACKS.replace(
        'tabby.dev/asn: "64603"',
        'tabby.dev/asn: "64603"\n        tabby.dev/bgp-password: one',
      ).replace('tabby.dev/asn: "65002"', 'tabby.dev/asn: "65002"\n        tabby.dev/bgp-password: two'),
      /nodes\.tor2\.labels\["tabby\.dev\/bgp-password"\]: differs from node3's/,
    ],
    [
      'a bad MTU',
      TWO_RACKS.replace(
        '- endpoints: ["spine:eth1", "tor1:eth1"]',
        '- endpoints: ["spine:eth1", "tor1:eth1"]\n      mtu: 100',
      ),
      /topology\.links\[0\]\.mtu: must be an integer from 1280 to 65535/,
    ],
  ])('rejects %s, naming the field', (_what, text, message) => {
    const found = issues(text);
    expect(found.length, 'expected an issue').toBeGreaterThan(0);
    expect(found.join('\n')).toMatch(message);
  });

  it('reports every problem at once, not just the first', () => {
    const bad = TWO_RACKS.replace('"65000"', '"x"').replace(
      '"tor2:eth3", "node4:eth1"',
      '"tor2:eth3", "node9:eth1"',
    );
    expect(issues(bad)).toHaveLength(2);
  });
});
