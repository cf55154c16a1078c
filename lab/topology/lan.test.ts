import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderBgpdConf } from './frr-config.js';
import { bgpNeighbors, directPeers } from './neighbors.js';
import { parseTopology } from './parse.js';
import { planLab } from './plan.js';
import { TopologyError } from './types.js';

const ONE_RACK = readFileSync(
  fileURLToPath(new URL('../topologies/one-rack.clab.yml', import.meta.url)),
  'utf8',
);

function issues(text: string): string[] {
  try {
    parseTopology(text);
    return [];
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

const t = parseTopology(ONE_RACK, { name: 'lan' });
const node = (n: string) => {
  const x = t.nodes.find((y) => y.name === n);
  if (!x) throw new Error(n);
  return x;
};

describe('a LAN (kind: bridge)', () => {
  it('reads one-rack: a bridge node, members addressed by their link labels, the router as gateway', () => {
    expect(t.nodes.map((n) => `${n.name}:${n.kind}:${n.role}`)).toEqual([
      'node1:linux:node',
      'node2:linux:node',
      'node3:linux:node',
      'rack1:bridge:bridge',
      'tor:linux:router',
    ]);
    expect(node('node2').interfaces).toEqual([
      {
        name: 'eth1',
        peerNode: 'rack1',
        peerInterface: 'eth3',
        addresses: [{ family: 4, address: '198.18.3.12', prefixLength: 24 }],
        peerAddresses: [],
        mtu: undefined,
      },
    ]);
    expect(node('rack1').interfaces.map((i) => [i.name, i.addresses.length])).toEqual([
      ['eth1', 0],
      ['eth2', 0],
      ['eth3', 0],
      ['eth4', 0],
    ]);
    expect(['node1', 'node2', 'node3'].map((n) => node(n).gateway4)).toEqual([
      '198.18.3.1',
      '198.18.3.1',
      '198.18.3.1',
    ]);
    expect(node('tor').gateway4).toBeUndefined();
  });

  it('reaches every other member of the LAN in one hop', () => {
    expect(directPeers(t, node('node1')).map((p) => `${p.peerNode} ${p.address} via ${p.bridge}`)).toEqual([
      'tor 198.18.3.1 via rack1',
      'node2 198.18.3.12 via rack1',
      'node3 198.18.3.13 via rack1',
    ]);
  });

  it('gives the router no sessions to servers without an AS, and sessions over the LAN to those with one', () => {
    expect(bgpNeighbors(t, node('tor'))).toEqual([]);
    const withAs = parseTopology(
      ONE_RACK.replace(
        /(node2:\n(?:.*\n){3}\s+tabby\.dev\/role: node)/,
        '$1\n        tabby.dev/asn: "64512"\n        tabby.dev/bgp-password: pw',
      ),
    );
    const tor = withAs.nodes.find((n) => n.name === 'tor');
    if (!tor) throw new Error('tor');
    expect(bgpNeighbors(withAs, tor)).toEqual([
      {
        family: 4,
        address: '198.18.3.12',
        localAddress: '198.18.3.1',
        remoteAs: 64512,
        peerNode: 'node2',
        peerRole: 'node',
        interface: 'eth1',
        password: 'pw',
      },
    ]);
    expect(renderBgpdConf(withAs, tor)).toContain(' neighbor 198.18.3.12 remote-as 64512');
  });

  it('plans the bridge namespace: br0 up, every link end enslaved, no addresses', () => {
    const plan = planLab(t);
    const rack = plan.namespaces.find((n) => n.node === 'rack1');
    expect(rack?.role).toBe('bridge');
    expect(rack?.commands).toEqual([
      { op: 'bridge-add', name: 'br0' },
      { op: 'link-master', dev: 'eth1', master: 'br0' },
      { op: 'link-up', dev: 'eth1' },
      { op: 'link-master', dev: 'eth2', master: 'br0' },
      { op: 'link-up', dev: 'eth2' },
      { op: 'link-master', dev: 'eth3', master: 'br0' },
      { op: 'link-up', dev: 'eth3' },
      { op: 'link-master', dev: 'eth4', master: 'br0' },
      { op: 'link-up', dev: 'eth4' },
      { op: 'link-up', dev: 'br0' },
    ]);
    expect(plan.namespaces.find((n) => n.node === 'node3')?.commands).toEqual([
      { op: 'addr-add', dev: 'eth1', family: 4, address: '198.18.3.13', prefixLength: 24 },
      { op: 'link-up', dev: 'eth1' },
      { op: 'route-add', family: 4, dst: 'default', via: '198.18.3.1' },
    ]);
    expect(plan.routers.map((r) => [r.node, r.daemon])).toEqual([['tor', 'frr']]);
  });

  it('does not give a bridge the tabby labels of `defaults`', () => {
    const withDefaults = ONE_RACK.replace(
      '  defaults:\n    kind: linux\n',
      '  defaults:\n    kind: linux\n    labels: { tabby.dev/role: node }\n',
    );
    expect(withDefaults).not.toBe(ONE_RACK);
    expect(parseTopology(withDefaults).nodes.find((n) => n.name === 'rack1')?.role).toBe('bridge');
  });

  it('joins bridges linked to each other into one LAN', () => {
    const two = ONE_RACK.replace('node3:eth1", "rack1:eth4"', 'node3:eth1", "rack2:eth2"')
      .replace(
        '    rack1:\n      kind: bridge\n',
        '    rack1:\n      kind: bridge\n    rack2:\n      kind: bridge\n',
      )
      .concat('    - endpoints: ["rack1:eth9", "rack2:eth1"]\n');
    const t2 = parseTopology(two);
    const n3 = t2.nodes.find((n) => n.name === 'node3');
    if (!n3) throw new Error('node3');
    expect(directPeers(t2, n3).map((p) => p.peerNode)).toEqual(['tor', 'node1', 'node2']);
    expect(n3.gateway4).toBe('198.18.3.1');
  });

  it.each([
    [
      'a subnet instead of an address',
      ONE_RACK.replace('ipv4: 198.18.3.12/24', 'ipv4: 198.18.3.0/24'),
      /topology\.links\[2\]\.labels\["tabby\.dev\/ipv4"\]: "198\.18\.3\.0\/24" is the network address of 198\.18\.3\.0\/24; on a link to bridge rack1, give the other endpoint's address with the LAN's prefix length/,
    ],
    [
      'a broadcast address',
      ONE_RACK.replace('ipv4: 198.18.3.12/24', 'ipv4: 198.18.3.255/24'),
      /links\[2\].*is the broadcast address/,
    ],
    [
      'a /31 on a LAN',
      ONE_RACK.replace('ipv4: 198.18.3.12/24', 'ipv4: 198.18.3.12/31'),
      /links\[2\].*\/31 is no LAN/,
    ],
    [
      'an address given twice',
      ONE_RACK.replace('ipv4: 198.18.3.12/24', 'ipv4: 198.18.3.11/24'),
      /links\[2\]\.labels\["tabby\.dev\/ipv4"\]: 198\.18\.3\.11 is already used by topology\.links\[1\]/,
    ],
    [
      'members with different prefix lengths',
      ONE_RACK.replace('ipv4: 198.18.3.12/24', 'ipv4: 198.18.3.12/25'),
      /links\[2\].*198\.18\.3\.0\/25 overlaps 198\.18\.3\.0\/24 of topology\.links\[0\].*same prefix length/,
    ],
    [
      'a link between two bridges with an address',
      `${ONE_RACK.replace('    rack1:\n      kind: bridge\n', '    rack1:\n      kind: bridge\n    rack2:\n      kind: bridge\n')}    - endpoints: ["rack1:eth9", "rack2:eth1"]\n      labels: { tabby.dev/ipv4: 198.18.4.0/31 }\n`,
      /links\[4\]\.labels\["tabby\.dev\/ipv4"\]: a link between two bridges carries no addresses/,
    ],
    [
      'tabby labels on a bridge',
      ONE_RACK.replace(
        '    rack1:\n      kind: bridge\n',
        '    rack1:\n      kind: bridge\n      labels: { tabby.dev/asn: "1" }\n',
      ),
      /topology\.nodes\.rack1\.labels\["tabby\.dev\/asn"\]: a bridge takes no tabby labels/,
    ],
    [
      'a bridge port named like the bridge device',
      ONE_RACK.replace('"rack1:eth4"', '"rack1:br0"'),
      /topology\.links\[3\]\.endpoints\[1\]: "br0" is the bridge device of rack1/,
    ],
    [
      'two routers on a LAN and no gateway label',
      ONE_RACK.replace(
        '    node1:\n',
        '    tor2:\n      kind: linux\n      labels: { tabby.dev/role: router, tabby.dev/asn: "65011", tabby.dev/router-id: 198.18.255.22 }\n    node1:\n',
      ).concat(
        '    - endpoints: ["tor2:eth1", "rack1:eth5"]\n      labels: { tabby.dev/ipv4: 198.18.3.2/24 }\n',
      ),
      /topology\.nodes\.node1\.labels\["tabby\.dev\/gateway4"\]: required: eth1 is on bridge rack1 with several routers \(tor, tor2\)/,
    ],
  ])('rejects %s, naming the field', (_what, text, message) => {
    expect(text).not.toBe(ONE_RACK);
    expect(issues(text).join('\n')).toMatch(message);
  });
});
