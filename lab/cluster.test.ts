import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planCluster } from './cluster.js';
import { parseTopology } from './topology/parse.js';

const read = (f: string) =>
  readFileSync(fileURLToPath(new URL(`./topologies/${f}.clab.yml`, import.meta.url)), 'utf8');

describe('planCluster (what the tabby cluster harness creates)', () => {
  it('makes one Node per server with hostname, rack, AS and BGP address', () => {
    const plan = planCluster(parseTopology(read('two-racks'), { name: 'lab1' }), { namePrefix: 'ab-' });
    expect(plan.nodes.map((n) => [n.labNode, n.name, n.netns, n.ipv4, n.rack, n.asn])).toEqual([
      ['node1', 'ab-node1', 'lab1-node1', '198.18.1.1', 'tor1', 64601],
      ['node2', 'ab-node2', 'lab1-node2', '198.18.1.3', 'tor1', 64602],
      ['node3', 'ab-node3', 'lab1-node3', '198.18.2.1', 'tor2', 64603],
      ['node4', 'ab-node4', 'lab1-node4', '198.18.2.3', 'tor2', 64604],
    ]);
    expect(plan.nodes[0]?.node).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'ab-node1',
        labels: { 'kubernetes.io/hostname': 'ab-node1', 'tabby.dev/rack': 'tor1', 'tabby.dev/lab': 'lab1' },
        annotations: { 'tabby.dev/bgp-asn': '64601', 'tabby.dev/bgp-ipv4': '198.18.1.1' },
      },
      status: {
        addresses: [
          { type: 'InternalIP', address: '198.18.1.1' },
          { type: 'Hostname', address: 'ab-node1' },
        ],
      },
    });
  });

  it('makes a node-scoped BGPPeer per server↔router session: the router address and AS', () => {
    const plan = planCluster(parseTopology(read('two-racks'), { name: 'lab1' }), { namePrefix: 'ab-' });
    expect(plan.peers).toEqual([
      {
        name: 'ab-node1-tor1',
        router: 'tor1',
        spec: { node: 'ab-node1', peerIP: '198.18.1.0', asNumber: 65001 },
      },
      {
        name: 'ab-node2-tor1',
        router: 'tor1',
        spec: { node: 'ab-node2', peerIP: '198.18.1.2', asNumber: 65001 },
      },
      {
        name: 'ab-node3-tor2',
        router: 'tor2',
        spec: { node: 'ab-node3', peerIP: '198.18.2.0', asNumber: 65002 },
      },
      {
        name: 'ab-node4-tor2',
        router: 'tor2',
        spec: { node: 'ab-node4', peerIP: '198.18.2.2', asNumber: 65002 },
      },
    ]);
  });

  it('puts a session password in a Secret the BGPPeer names', () => {
    const text = read('two-racks').replace(
      'tabby.dev/asn: "64603"',
      'tabby.dev/asn: "64603"\n        tabby.dev/bgp-password: s3cret',
    );
    const plan = planCluster(parseTopology(text), { nodes: ['node3'], secretNamespace: 'tabby-system' });
    expect(plan.nodes.map((n) => n.name)).toEqual(['node3']);
    expect(plan.peers).toEqual([
      {
        name: 'node3-tor2',
        router: 'tor2',
        spec: {
          node: 'node3',
          peerIP: '198.18.2.0',
          asNumber: 65002,
          password: { namespace: 'tabby-system', name: 'node3-tor2', key: 'password' },
        },
        password: 's3cret',
      },
    ]);
  });

  it('on a LAN: rack is the bridge, no AS annotation and no BGPPeers without server AS numbers', () => {
    const plan = planCluster(parseTopology(read('one-rack')));
    expect(plan.nodes.map((n) => [n.name, n.ipv4, n.rack])).toEqual([
      ['node1', '198.18.3.11', 'rack1'],
      ['node2', '198.18.3.12', 'rack1'],
      ['node3', '198.18.3.13', 'rack1'],
    ]);
    expect(plan.nodes[0]?.node.metadata?.annotations).toEqual({ 'tabby.dev/bgp-ipv4': '198.18.3.11' });
    expect(plan.peers).toEqual([]);
  });

  it('names what is wrong with its options', () => {
    const t = parseTopology(read('one-rack'));
    expect(() => planCluster(t, { nodes: ['tor'] })).toThrow(/"tor" is not a server node of one-rack/);
    expect(() => planCluster(t, { namePrefix: 'Bad_' })).toThrow(/"Bad_node1" is not a valid Node name/);
  });
});
