import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderBgpdConf, renderIntegratedFrrConf, renderZebraConf } from './frr-config.js';
import { bgpNeighbors } from './neighbors.js';
import { parseTopology } from './parse.js';
import { planLab } from './plan.js';

const TWO_RACKS = readFileSync(
  fileURLToPath(new URL('../topologies/two-racks.clab.yml', import.meta.url)),
  'utf8',
);
const t = parseTopology(TWO_RACKS, { name: 'lab' });
const node = (n: string) => {
  const x = t.nodes.find((y) => y.name === n);
  if (!x) throw new Error(n);
  return x;
};

describe('planLab', () => {
  const plan = planLab(t);

  it('names namespaces <lab>-<node> and creates one veth per link between namespaces', () => {
    expect(plan.namespaces.map((n) => n.netns)).toEqual([
      'lab-node1',
      'lab-node2',
      'lab-node3',
      'lab-node4',
      'lab-spine',
      'lab-tor1',
      'lab-tor2',
    ]);
    expect(plan.veths[0]).toEqual({
      a: { netns: 'lab-spine', name: 'eth1' },
      b: { netns: 'lab-tor1', name: 'eth1' },
      mtu: undefined,
    });
    expect(plan.routers.map((r) => r.node)).toEqual(['spine', 'tor1', 'tor2']);
  });

  it('addresses interfaces and gives server nodes a default route (proxy ARP needs one)', () => {
    const node1 = plan.namespaces.find((n) => n.node === 'node1');
    expect(node1?.commands).toEqual([
      { op: 'addr-add', dev: 'eth1', family: 4, address: '198.18.1.1', prefixLength: 31 },
      { op: 'link-up', dev: 'eth1' },
      { op: 'route-add', family: 4, dst: 'default', via: '198.18.1.0' },
    ]);
    const spine = plan.namespaces.find((n) => n.node === 'spine');
    expect(spine?.commands[0]).toEqual({
      op: 'addr-add',
      dev: 'lo',
      family: 4,
      address: '198.18.255.1',
      prefixLength: 32,
    });
    expect(spine?.commands.some((c) => c.op === 'route-add')).toBe(false);
    expect(spine?.sysctls['net.ipv4.ip_forward']).toBe('1');
  });
});

describe('BGP neighbors and FRR configs', () => {
  it('peers every router with its directly linked routers and servers that have an AS, eBGP by AS', () => {
    const show = (n: string) =>
      bgpNeighbors(t, node(n)).map((x) => `${x.address} AS${x.remoteAs} ${x.peerNode} ${x.peerRole}`);
    expect(show('spine')).toEqual(['198.18.0.1 AS65001 tor1 router', '198.18.0.3 AS65002 tor2 router']);
    expect(show('tor1')).toEqual([
      '198.18.0.0 AS65000 spine router',
      '198.18.1.1 AS64601 node1 node',
      '198.18.1.3 AS64602 node2 node',
    ]);
    expect(
      planLab(t)
        .routers.find((r) => r.node === 'tor2')
        ?.neighbors.map((n) => n.peerNode),
    ).toEqual(['spine', 'node3', 'node4']);
  });

  it('has no sessions toward servers without an AS', () => {
    const noAs = parseTopology(TWO_RACKS.replaceAll(/\n {8}tabby\.dev\/asn: "646\d\d"/g, ''), { name: 'x' });
    const tor1 = noAs.nodes.find((n) => n.name === 'tor1');
    expect(tor1 && bgpNeighbors(noAs, tor1).map((n) => n.peerNode)).toEqual(['spine']);
  });

  it('renders router-side sessions to servers, with the MD5 password of the server', () => {
    const withPw = parseTopology(
      TWO_RACKS.replace(
        'tabby.dev/asn: "64601"',
        'tabby.dev/asn: "64601"\n        tabby.dev/bgp-password: s3cr3t!',
      ),
      { name: 'x' },
    );
    const tor1 = withPw.nodes.find((n) => n.name === 'tor1');
    if (!tor1) throw new Error('tor1');
    const conf = renderBgpdConf(withPw, tor1);
    expect(conf).toContain(
      ' neighbor 198.18.1.1 remote-as 64601\n neighbor 198.18.1.1 description node1\n neighbor 198.18.1.1 timers 3 9\n neighbor 198.18.1.1 timers connect 5\n neighbor 198.18.1.1 password s3cr3t!',
    );
    expect(conf).not.toContain('198.18.1.3 password');
    expect(conf).toMatch(/neighbor 198\.18\.1\.1 activate\n {2}neighbor 198\.18\.1\.3 activate/);
  });

  it('renders bgpd.conf with fast timers, explicit activation and connected redistribution', () => {
    const conf = renderBgpdConf(t, node('tor1'), { logFile: '/run/x/frr.log' });
    expect(conf).toContain('log file /run/x/frr.log informational');
    expect(conf).toContain('router bgp 65001\n bgp router-id 198.18.255.11\n no bgp default ipv4-unicast');
    expect(conf).toContain(' neighbor 198.18.0.0 remote-as 65000\n neighbor 198.18.0.0 description spine');
    expect(conf).toContain(' neighbor 198.18.0.0 timers 3 9\n neighbor 198.18.0.0 timers connect 5');
    expect(conf).toContain(
      ' address-family ipv4 unicast\n  redistribute connected\n  maximum-paths 16\n  neighbor 198.18.0.0 activate',
    );
    expect(conf).not.toContain('ipv6 unicast');
    expect(renderZebraConf(node('tor1'))).not.toContain('router bgp');
  });

  it('renders an integrated frr.conf with interface addresses for containerlab', () => {
    const conf = renderIntegratedFrrConf(t, node('spine'));
    expect(conf).toContain('interface lo\n ip address 198.18.255.1/32\nexit');
    expect(conf).toContain('interface eth2\n ip address 198.18.0.2/31\nexit');
    expect(conf).toContain('router bgp 65000');
  });

  it('adds IPv6 sessions when both ends of a link have IPv6', () => {
    const t6 = parseTopology(`name: v6
topology:
  nodes:
    a: { kind: linux, labels: { tabby.dev/role: router, tabby.dev/asn: "65000", tabby.dev/router-id: 198.18.255.1 } }
    b: { kind: linux, labels: { tabby.dev/role: router, tabby.dev/asn: "65001", tabby.dev/router-id: 198.18.255.2 } }
  links:
    - endpoints: ["a:eth1", "b:eth1"]
      labels: { tabby.dev/ipv4: 198.18.0.0/31, tabby.dev/ipv6: "2001:2::/127" }
`);
    const a = t6.nodes[0];
    if (!a) throw new Error('a');
    const conf = renderBgpdConf(t6, a);
    expect(conf).toContain(' neighbor 2001:2::1 remote-as 65001');
    expect(conf).toContain(
      ' address-family ipv6 unicast\n  redistribute connected\n  maximum-paths 16\n  neighbor 2001:2::1 activate',
    );
    expect(conf).toMatch(
      /address-family ipv4 unicast\n {2}redistribute connected\n {2}maximum-paths 16\n {2}neighbor 198\.18\.0\.1 activate\n exit/,
    );
  });
});
