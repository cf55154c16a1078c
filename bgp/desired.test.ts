import { describe, expect, it } from 'vitest';
import { computeDesiredBgp } from './desired.js';
import type { DesiredBgp, DesiredPeer } from './desired-types.js';
import { bgpPeer, dual, inputs, malformations, node } from './fake-desired-inputs.js';
import type { BgpInputs } from './inputs-types.js';

/** The desired state (checked for well-formedness) and the issues. */
function compute(over: Partial<BgpInputs> = {}): { d: DesiredBgp; issues: string[] } {
  const { desired, issues } = computeDesiredBgp(inputs(over));
  if (!desired) throw new Error(`no desired state: ${JSON.stringify(issues)}`);
  expect(malformations(desired)).toEqual([]);
  return { d: desired, issues: issues.map((i) => `${i.source}: ${i.message}`) };
}

const summary = (peers: DesiredPeer[]) => peers.map((p) => `${p.kind} ${p.source} ${p.address}`);
const peerAt = (d: DesiredBgp, address: string) => d.peers.find((p) => p.address === address);

describe('computeDesiredBgp: global settings', () => {
  it('defaults: AS 64512, router id from the IPv4 BGP address, port 179, both wildcards', () => {
    const { d, issues } = compute();
    expect(d.global).toEqual({
      asn: 64512,
      routerId: '10.0.0.1',
      listenPort: 179,
      listenAddresses: ['0.0.0.0', '::'],
    });
    expect(d.ownAddresses).toEqual(['10.0.0.1', 'fd00::1']);
    expect(issues).toEqual([]);
  });

  it('the BGPConfiguration, then the node annotations, override the defaults', () => {
    const { d } = compute({
      config: { asNumber: 65000, listenPort: 1790 },
      nodes: [dual(1, { asn: '65010', routerId: '192.0.2.1' }), dual(2)],
    });
    expect(d.global).toMatchObject({ asn: 65010, routerId: '192.0.2.1', listenPort: 1790 });
  });

  it("listens on '::' only with an IPv6 BGP address (a host may have IPv6 disabled)", () => {
    const v4only = compute({ nodes: [node('n1', { ipv4: '10.0.0.1' }), dual(2)] });
    expect(v4only.d.global.listenAddresses).toEqual(['0.0.0.0']);
    expect(v4only.issues).toEqual([]);
    // An invalid IPv6 annotation (reported) is no IPv6 address either.
    const bad = compute({ nodes: [node('n1', { ipv4: '10.0.0.1', ipv6: 'nope' }), dual(2)] });
    expect(bad.d.global.listenAddresses).toEqual(['0.0.0.0']);
    const v6only = compute({ nodes: [node('n1', { ipv6: 'fd00::1', routerId: '1.1.1.1' }), dual(2)] });
    expect(v6only.d.global.listenAddresses).toEqual(['0.0.0.0', '::']);
  });

  it('no BGP without the node, its AS or a router id (an issue says why)', () => {
    const missing = computeDesiredBgp(inputs({ node: 'ghost' }));
    expect(missing.desired).toBeUndefined();
    expect(missing.issues).toEqual([{ source: 'Node ghost', message: expect.stringMatching(/not found/) }]);

    const v6only = computeDesiredBgp(inputs({ nodes: [node('n1', { ipv6: 'fd00::1' })] }));
    expect(v6only.desired).toBeUndefined();
    expect(v6only.issues[0]?.message).toMatch(/no router id: annotation tabby.dev\/bgp-router-id/);
    const withId = computeDesiredBgp(
      inputs({ nodes: [node('n1', { ipv6: 'fd00::1', routerId: '1.2.3.4' })] }),
    );
    expect(withId.desired?.global.routerId).toBe('1.2.3.4');

    const badAsn = computeDesiredBgp(inputs({ nodes: [dual(1, { asn: 'sixty' })] }));
    expect(badAsn.desired).toBeUndefined();
    expect(badAsn.issues).toEqual([
      { source: 'Node n1', message: expect.stringMatching(/^annotation tabby.dev\/bgp-asn: "sixty" is not/) },
    ]);
    const badId = computeDesiredBgp(inputs({ nodes: [dual(1, { routerId: '0.0.0.0' })] }));
    expect(badId.desired).toBeUndefined();
    expect(badId.issues[0]?.message).toMatch(
      /^annotation tabby.dev\/bgp-router-id: "0.0.0.0" is not a router id/,
    );
  });
});

describe('computeDesiredBgp: node-to-node peering', () => {
  it('full mesh: one iBGP session per family with every other ready node of the AS', () => {
    const { d } = compute({
      nodes: [
        dual(1),
        dual(2),
        node('n3', { ipv4: '10.0.0.3' }), // IPv4 only
        node('n4'), // agent not started yet: no address
        dual(5, { asn: '65005' }), // another AS: reached through the fabric
      ],
    });
    expect(summary(d.peers)).toEqual(['mesh n2 10.0.0.2', 'mesh n3 10.0.0.3', 'mesh n2 fd00::2']);
    expect(peerAt(d, '10.0.0.2')).toEqual({
      kind: 'mesh',
      source: 'n2',
      address: '10.0.0.2',
      asn: 64512,
      description: 'tabby mesh n2',
      localAddress: '10.0.0.1',
      holdTime: 90,
      keepaliveInterval: 30,
      connectRetry: 5,
      gracefulRestart: { restartTime: 120, localRestarting: false },
      families: [4],
    });
    expect(peerAt(d, 'fd00::2')).toMatchObject({ localAddress: 'fd00::1', families: [6] });
  });

  it('an IPv6-only node meshes over IPv6 only; nothing with a node lacking that family', () => {
    const { d } = compute({
      nodes: [
        node('n1', { ipv6: 'fd00::1', routerId: '1.1.1.1' }),
        dual(2),
        node('n3', { ipv4: '10.0.0.3' }),
      ],
    });
    expect(summary(d.peers)).toEqual(['mesh n2 fd00::2']);
    expect(d.ownAddresses).toEqual(['fd00::1']);
  });

  it('mesh off and no reflector: no node sessions', () => {
    const { d } = compute({ config: { nodeToNodeMeshEnabled: false } });
    expect(d.peers).toEqual([]);
  });

  it('a non-default listen port is dialled on the other nodes too', () => {
    const { d } = compute({ config: { listenPort: 1790 } });
    expect(d.peers.every((p) => p.port === 1790)).toBe(true);
  });

  it('per-node AS: nodes mesh only within their own AS', () => {
    const nodes = [dual(1, { asn: '65001' }), dual(2, { asn: '65001' }), dual(3), dual(4, { asn: '65002' })];
    const { d } = compute({ nodes });
    expect(summary(d.peers)).toEqual(['mesh n2 10.0.0.2', 'mesh n2 fd00::2']);
    expect(d.peers.every((p) => p.asn === 65001)).toBe(true);
    const n3 = compute({ node: 'n3', nodes }).d;
    expect(n3.peers).toEqual([]);
    expect(n3.global.asn).toBe(64512);
  });

  describe('route reflection (any node of the AS with a cluster id)', () => {
    const nodes = [
      dual(1, { clusterId: '244.0.0.1' }),
      dual(2, { clusterId: '244.0.0.1' }),
      dual(3),
      node('n4', { ipv4: '10.0.0.4' }),
      dual(5, { asn: '65005' }),
    ];

    it('a reflector peers with every node of its AS: clients and the other reflectors', () => {
      const { d } = compute({ nodes, config: { nodeToNodeMeshEnabled: false } });
      expect(summary(d.peers)).toEqual([
        'reflector n2 10.0.0.2',
        'reflector-client n3 10.0.0.3',
        'reflector-client n4 10.0.0.4',
        'reflector n2 fd00::2',
        'reflector-client n3 fd00::3',
      ]);
      expect(peerAt(d, '10.0.0.3')?.routeReflectorClient).toEqual({ clusterId: '244.0.0.1' });
      expect(peerAt(d, '10.0.0.2')?.routeReflectorClient).toBeUndefined();
    });

    it('a client peers with the reflectors only, whatever the mesh flag says', () => {
      for (const mesh of [true, false]) {
        const { d } = compute({ node: 'n3', nodes, config: { nodeToNodeMeshEnabled: mesh } });
        expect(summary(d.peers)).toEqual([
          'reflector n1 10.0.0.1',
          'reflector n2 10.0.0.2',
          'reflector n1 fd00::1',
          'reflector n2 fd00::2',
        ]);
        expect(d.peers.every((p) => p.routeReflectorClient === undefined)).toBe(true);
        // A client exports its own routes only.
        expect(d.policies.find((p) => p.name === d.exportAssignment.policies[0])).toBeUndefined();
      }
    });

    it('a reflector passes cluster routes learned over iBGP on to its node peers only', () => {
      const { d } = compute({ nodes, borrowedElsewhere: ['10.244.9.9'] });
      const exp = d.policies.find((p) => p.name === d.exportAssignment.policies[0]);
      const sets = new Map(d.definedSets.map((s) => [s.name, s]));
      const reflect = exp?.statements.filter((s) => /reflect/.test(s.name)) ?? [];
      expect(reflect.map((s) => s.name.replace(/^tabby-export-[0-9a-f]+-/, ''))).toEqual([
        'reflect-borrowed-v4',
        'reflect-blocks-v4',
        'reflect-blocks-v6',
      ]);
      for (const s of reflect) expect(s.conditions.routeType).toBe('internal');
      const v4 = sets.get(reflect[0]?.conditions.neighborSet ?? '');
      expect(v4).toMatchObject({ type: 'neighbor', addresses: ['10.0.0.2', '10.0.0.3', '10.0.0.4'] });
      expect(sets.get(reflect[2]?.conditions.neighborSet ?? '')).toMatchObject({
        addresses: ['fd00::2', 'fd00::3'],
      });
    });

    it('an invalid cluster id is reported; that node is left out, the AS stays reflected', () => {
      const bad = [dual(1, { clusterId: 'rack-1' }), dual(2), dual(3)];
      const { d, issues } = compute({ node: 'n2', nodes: bad });
      expect(d.peers).toEqual([]);
      expect(issues).toEqual([
        expect.stringMatching(
          /^Node n1: annotation tabby.dev\/route-reflector-cluster-id: "rack-1" is not a cluster id/,
        ),
      ]);
    });
  });

  it("a node claiming this node's address or another node's is reported and skipped", () => {
    const { d, issues } = compute({
      nodes: [dual(1), node('n2', { ipv4: '10.0.0.1' }), dual(3), node('n4', { ipv4: '10.0.0.3' })],
    });
    expect(summary(d.peers)).toEqual(['mesh n3 10.0.0.3', 'mesh n3 fd00::3']);
    expect(issues).toEqual([
      "Node n2: router id 10.0.0.1 is also node n1's (same AS 64512): sessions between them fail",
      "Node n2: annotation tabby.dev/bgp-ipv4: 10.0.0.1 is also node n1's; no session with it",
      "Node n4: annotation tabby.dev/bgp-ipv4: 10.0.0.3 is also node n3's; no session with it",
    ]);
  });

  it('bad address annotations are reported and ignored', () => {
    const { d, issues } = compute({
      nodes: [dual(1), node('n2', { ipv4: 'fd00::2', ipv6: 'fd00::2' }), node('n3', { ipv4: '127.0.0.3' })],
    });
    expect(summary(d.peers)).toEqual(['mesh n2 fd00::2']);
    expect(issues).toEqual([
      'Node n2: annotation tabby.dev/bgp-ipv4: "fd00::2" is not a unicast IPv4 address',
      'Node n3: annotation tabby.dev/bgp-ipv4: "127.0.0.3" is not a unicast IPv4 address',
    ]);
  });
});

describe('computeDesiredBgp: BGPPeers', () => {
  const tor = { peerIP: '10.0.0.254', asNumber: 65000 };

  it('node-scoped, global and selector-scoped peers that apply to this node', () => {
    const { d, issues } = compute({
      nodes: [dual(1, { labels: { rack: 'r1' } }), dual(2)],
      peers: [
        bgpPeer('mine', { ...tor, node: 'n1' }),
        bgpPeer('theirs', { ...tor, peerIP: '10.0.0.253', node: 'n2' }),
        bgpPeer('everyone', { peerIP: '192.0.2.1', asNumber: 65100 }),
        bgpPeer('rack1', {
          peerIP: 'FD00:0:0::FE',
          asNumber: 65000,
          nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'In', values: ['r1'] }] },
        }),
        bgpPeer('rack2', {
          peerIP: '10.0.1.254',
          asNumber: 65000,
          nodeSelector: { matchLabels: { rack: 'r2' } },
        }),
      ],
    });
    expect(issues).toEqual([]);
    expect(summary(d.peers)).toEqual([
      'mesh n2 10.0.0.2',
      'node mine 10.0.0.254',
      'global everyone 192.0.2.1',
      'mesh n2 fd00::2',
      'global rack1 fd00::fe',
    ]);
    expect(peerAt(d, '10.0.0.254')).toEqual({
      kind: 'node',
      source: 'mine',
      address: '10.0.0.254',
      asn: 65000,
      description: 'tabby node mine',
      holdTime: 90,
      keepaliveInterval: 30,
      connectRetry: 5,
      gracefulRestart: { restartTime: 120, localRestarting: false },
      families: [4],
    });
    expect(peerAt(d, 'fd00::fe')?.families).toEqual([6]);
  });

  it('every optional field reaches the neighbor', () => {
    const { d } = compute({
      peers: [
        bgpPeer('full', {
          ...tor,
          port: 1179,
          keepaliveTime: 3,
          holdTime: 9,
          ebgpMultihop: 2,
          maxPrefixes: 100,
          sourceAddress: '10.0.0.1',
          passive: true,
          gracefulRestart: false,
        }),
      ],
    });
    expect(peerAt(d, '10.0.0.254')).toEqual({
      kind: 'global',
      source: 'full',
      address: '10.0.0.254',
      asn: 65000,
      description: 'tabby global full',
      port: 1179,
      holdTime: 9,
      keepaliveInterval: 3,
      connectRetry: 5,
      multihopTtl: 2,
      maxPrefixes: 100,
      localAddress: '10.0.0.1',
      passive: true,
      families: [4],
    });
  });

  it("a peer at this node's own address is skipped silently (a reflector among the nodes)", () => {
    const { d, issues } = compute({
      nodes: [dual(1, { addresses: [{ type: 'InternalIP', address: '192.168.1.1' }] }), dual(2)],
      peers: [
        bgpPeer('rr-a', { peerIP: '10.0.0.1', asNumber: 64512 }),
        bgpPeer('rr-b', { peerIP: '10.0.0.2', asNumber: 64512 }),
        bgpPeer('node-ip', { peerIP: '192.168.1.1', asNumber: 64512 }),
      ],
      config: { nodeToNodeMeshEnabled: false },
    });
    expect(summary(d.peers)).toEqual(['global rr-b 10.0.0.2']);
    expect(issues).toEqual([]);
  });

  it('one neighbor per address: node-scoped over global over mesh; ties reported', () => {
    const { d, issues } = compute({
      peers: [
        bgpPeer('b-global', { ...tor }),
        bgpPeer('a-global', { ...tor, asNumber: 65001 }),
        bgpPeer('z-node', { ...tor, asNumber: 65002, node: 'n1' }),
        bgpPeer('over-mesh', { peerIP: '10.0.0.2', asNumber: 64512, holdTime: 9 }),
      ],
    });
    expect(summary(d.peers)).toEqual([
      'global over-mesh 10.0.0.2',
      'mesh n3 10.0.0.3',
      'node z-node 10.0.0.254',
      'mesh n2 fd00::2',
      'mesh n3 fd00::3',
    ]);
    expect(peerAt(d, '10.0.0.254')?.asn).toBe(65002);
    expect(peerAt(d, '10.0.0.2')).toMatchObject({ holdTime: 9, keepaliveInterval: 3 });
    expect(issues).toEqual([
      "BGPPeer a-global: spec.peerIP: 10.0.0.254 is also BGPPeer z-node's, which applies instead",
      "BGPPeer b-global: spec.peerIP: 10.0.0.254 is also BGPPeer z-node's, which applies instead",
    ]);
  });

  it('passwords come from the Secrets; a missing one skips the peer (its address stays taken)', () => {
    const ref = (name: string) => ({ namespace: 'tabby-system', name, key: 'password' });
    const { d, issues } = compute({
      peers: [
        bgpPeer('tor', { ...tor, password: ref('tor') }),
        bgpPeer('lost', { peerIP: '10.0.0.2', asNumber: 64512, password: ref('gone') }),
        bgpPeer('empty', { peerIP: '10.0.0.3', asNumber: 64512, password: ref('empty') }),
      ],
      secrets: new Map([
        ['tabby-system/tor/password', 's3cret'],
        ['tabby-system/empty/password', ''],
      ]),
      secretErrors: new Map([['tabby-system/gone/password', 'forbidden']]),
    });
    expect(peerAt(d, '10.0.0.254')?.password).toBe('s3cret');
    expect(peerAt(d, '10.0.0.2')).toBeUndefined(); // not even the mesh session
    expect(peerAt(d, '10.0.0.3')).toBeUndefined();
    expect(issues).toEqual([
      'BGPPeer empty: spec.password: Secret tabby-system/empty key "password" is empty; the peer is not configured',
      'BGPPeer lost: spec.password: Secret tabby-system/gone key "password": forbidden; the peer is not configured',
    ]);
  });

  it('the mesh password applies to every node session; when missing there are none', () => {
    const meshPassword = { namespace: 'tabby-system', name: 'bgp', key: 'mesh' };
    const ok = compute({
      config: { meshPassword },
      secrets: new Map([['tabby-system/bgp/mesh', 'm3sh']]),
      peers: [bgpPeer('tor', tor)],
    });
    expect(ok.d.peers.map((p) => `${p.source} ${p.password}`)).toEqual([
      'n2 m3sh',
      'n3 m3sh',
      'tor undefined',
      'n2 m3sh',
      'n3 m3sh',
    ]);
    const missing = compute({ config: { meshPassword }, peers: [bgpPeer('tor', tor)] });
    expect(summary(missing.d.peers)).toEqual(['global tor 10.0.0.254']);
    expect(missing.issues).toEqual([
      'BGPConfiguration default: spec.meshPassword: Secret tabby-system/bgp key "mesh": not found; no node-to-node session is configured',
    ]);
  });

  it('invalid specs are reported naming the field, and skipped', () => {
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['no-ip', { asNumber: 1 }, /^spec.peerIP: required$/],
      ['bad-ip', { ...tor, peerIP: '10.0.0' }, /^spec.peerIP: "10.0.0" is not a unicast/],
      ['loopback', { ...tor, peerIP: '::1' }, /^spec.peerIP: "::1" is not a unicast/],
      ['no-as', { peerIP: '10.9.9.9' }, /^spec.asNumber: required$/],
      ['as-zero', { ...tor, asNumber: 0 }, /^spec.asNumber: 0 is not an integer in 1-4294967295$/],
      ['as-big', { ...tor, asNumber: 4294967296 }, /^spec.asNumber: 4294967296 is not/],
      ['both', { ...tor, node: 'n1', nodeSelector: {} }, /^spec.node and spec.nodeSelector: set one/],
      ['hop', { ...tor, ebgpMultihop: 1 }, /^spec.ebgpMultihop: 1 is not an integer in 2-255$/],
      ['port', { ...tor, port: 70000 }, /^spec.port: 70000/],
      ['hold', { ...tor, holdTime: 2 }, /^spec.holdTime: 2 is not an integer in 3-65535$/],
      // gobgpd turns 0 into 90: every resync would see a difference and reset the session.
      ['hold-zero', { ...tor, holdTime: 0 }, /^spec.holdTime: 0 is not an integer in 3-65535$/],
      ['src', { ...tor, sourceAddress: 'fd00::1' }, /^spec.sourceAddress: fd00::1 is not of the family/],
      ['allowed', { ...tor, allowedPrefixes: ['10.1.0.1/16'] }, /^spec.allowedPrefixes\[0\]: .*host bits/],
      ['secret', { ...tor, password: { name: 'x' } }, /^spec.password: must name a Secret key/],
      [
        'selector',
        { ...tor, nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
        /^spec.nodeSelector.matchExpressions\[0\].values: must not be empty for In$/,
      ],
      ['gr', { ...tor, gracefulRestart: 'yes' }, /^spec.gracefulRestart: "yes" is not true or false$/],
    ];
    for (const [name, spec, message] of bad) {
      const { d, issues } = compute({ peers: [bgpPeer(name, spec)] });
      expect(
        d.peers.filter((p) => p.kind !== 'mesh'),
        name,
      ).toEqual([]);
      expect(issues, name).toEqual([expect.stringMatching(new RegExp(`^BGPPeer ${name}: `))]);
      expect(issues[0]?.replace(`BGPPeer ${name}: `, ''), name).toMatch(message);
    }
  });

  it("problems of peers meant for other nodes are not this node's to report", () => {
    const { issues } = compute({
      peers: [
        bgpPeer('other', { peerIP: 'nope', asNumber: 1, node: 'n2' }),
        bgpPeer('unselected', { peerIP: 'nope', asNumber: 1, nodeSelector: { matchLabels: { rack: 'r9' } } }),
      ],
    });
    expect(issues).toEqual([]);
  });

  it('keepalive is kept at most a third of the hold time', () => {
    const { d, issues } = compute({
      config: { keepaliveTime: 20 },
      peers: [
        bgpPeer('fast', { ...tor, holdTime: 9 }),
        bgpPeer('odd', { ...tor, peerIP: '10.0.0.253', keepaliveTime: 10, holdTime: 12 }),
      ],
    });
    expect(peerAt(d, '10.0.0.254')).toMatchObject({ holdTime: 9, keepaliveInterval: 3 });
    expect(peerAt(d, '10.0.0.253')).toMatchObject({ holdTime: 12, keepaliveInterval: 4 });
    expect(peerAt(d, '10.0.0.2')).toMatchObject({ holdTime: 90, keepaliveInterval: 20 });
    expect(issues).toEqual([
      'BGPPeer odd: spec.keepaliveTime: 10 is more than a third of spec.holdTime (12); using 4',
    ]);
  });

  it('an allowed prefix of the other family is reported, the peer still configured', () => {
    const { d, issues } = compute({
      peers: [bgpPeer('tor', { ...tor, allowedPrefixes: ['192.0.2.0/24', '2001:db8::/32'] })],
    });
    expect(peerAt(d, '10.0.0.254')).toBeDefined();
    expect(issues).toEqual([
      'BGPPeer tor: spec.allowedPrefixes[1]: not IPv4 like spec.peerIP; never received on this session',
    ]);
  });
});

describe('computeDesiredBgp: graceful restart and timers', () => {
  const tor = { peerIP: '10.0.0.254', asNumber: 65000 };

  it('on by default for every session; localRestarting passes through', () => {
    const { d } = compute({ localRestarting: true, peers: [bgpPeer('tor', tor)] });
    for (const p of d.peers) expect(p.gracefulRestart).toEqual({ restartTime: 120, localRestarting: true });
  });

  it('gracefulRestartTime 0 turns it off; a BGPPeer may still turn it on (restart time 120)', () => {
    const { d } = compute({
      config: { gracefulRestartTime: 0 },
      peers: [
        bgpPeer('tor', { ...tor, gracefulRestart: true }),
        bgpPeer('plain', { ...tor, peerIP: '10.0.0.253' }),
      ],
    });
    expect(peerAt(d, '10.0.0.2')?.gracefulRestart).toBeUndefined();
    expect(peerAt(d, '10.0.0.253')?.gracefulRestart).toBeUndefined();
    expect(peerAt(d, '10.0.0.254')?.gracefulRestart).toEqual({ restartTime: 120, localRestarting: false });
  });

  it('configuration timers apply to every session; a BGPPeer overrides its own', () => {
    const { d } = compute({
      config: { gracefulRestartTime: 300, keepaliveTime: 5, holdTime: 15, connectRetryTime: 7 },
      peers: [bgpPeer('tor', { ...tor, holdTime: 30, keepaliveTime: 10 })],
    });
    expect(peerAt(d, '10.0.0.2')).toMatchObject({
      holdTime: 15,
      keepaliveInterval: 5,
      connectRetry: 7,
      gracefulRestart: { restartTime: 300, localRestarting: false },
    });
    expect(peerAt(d, '10.0.0.254')).toMatchObject({ holdTime: 30, keepaliveInterval: 10, connectRetry: 7 });
  });

  it('invalid configuration fields are reported and take their defaults', () => {
    const { d, issues } = compute({
      config: { asNumber: -1, gracefulRestartTime: 5000, keepaliveTime: 40, connectRetryTime: 0 },
    });
    expect(d.global.asn).toBe(64512);
    expect(peerAt(d, '10.0.0.2')).toMatchObject({
      keepaliveInterval: 30,
      connectRetry: 5,
      gracefulRestart: { restartTime: 120, localRestarting: false },
    });
    expect(issues).toEqual([
      'BGPConfiguration default: spec.asNumber: -1 is not an integer in 1-4294967295',
      'BGPConfiguration default: spec.gracefulRestartTime: 5000 is not an integer in 0-4095',
      'BGPConfiguration default: spec.connectRetryTime: 0 is not an integer in 1-65535',
    ]);
    expect(compute({ config: { keepaliveTime: 40, holdTime: 90 } }).issues).toEqual([
      'BGPConfiguration default: spec.keepaliveTime: 40 is more than a third of spec.holdTime (90); using 30',
    ]);
  });

  it('holdTime 0 is refused (gobgpd would make it 90): the default applies', () => {
    const { d, issues } = compute({ config: { holdTime: 0, keepaliveTime: 10 } });
    expect(peerAt(d, '10.0.0.2')).toMatchObject({ holdTime: 90, keepaliveInterval: 10 });
    expect(issues).toEqual(['BGPConfiguration default: spec.holdTime: 0 is not an integer in 3-65535']);
    expect(compute({ config: { holdTime: 3, keepaliveTime: 1 } }).issues).toEqual([]);
    expect(compute({ config: { holdTime: 65536 } }).issues).toEqual([
      'BGPConfiguration default: spec.holdTime: 65536 is not an integer in 3-65535',
    ]);
  });
});

describe('computeDesiredBgp: routes originated', () => {
  it('one aggregate per affine block and a host route per borrowed address, per family, sorted', () => {
    const { d } = compute({
      affineBlocks: ['10.244.1.64/26', 'fd00:244::100/122', '10.244.1.0/26'],
      borrowedHere: ['10.244.7.3', 'fd00:244::9:1', '10.244.1.5' /* inside an own block */, '10.244.7.3'],
    });
    expect(d.paths).toEqual({
      4: ['10.244.1.0/26', '10.244.1.64/26', '10.244.7.3/32'],
      6: ['fd00:244::100/122', 'fd00:244::9:1/128'],
    });
  });

  it('an unusable pool is reported and left out of the import policy', () => {
    const { d, issues } = compute({
      pools: [{ cidr: '10.244.0.0/16' }, { cidr: '10.245.0.1/16' }, { cidr: '10.246.0.0/28' }],
    });
    expect(issues).toEqual([
      expect.stringMatching(/^IPPool 10.245.0.1\/16: spec.cidr: .*host bits/),
      "IPPool 10.246.0.0/28: spec.blockSize: 26 is not between the pool's prefix length and 32",
    ]);
    const blocks = d.definedSets.filter((s) => s.name.startsWith('tabby-blocks-'));
    expect(blocks).toEqual([
      expect.objectContaining({ prefixes: [{ prefix: '10.244.0.0/16', minLength: 26, maxLength: 26 }] }),
    ]);
  });

  it('IPv6 blocks with no IPv6 session to carry them: one issue', () => {
    const v4only = [node('n1', { ipv4: '10.0.0.1' }), dual(2), dual(3)];
    const { d, issues } = compute({
      nodes: v4only,
      affineBlocks: ['fd00:244::/122', 'fd00:244::40/122', '10.244.1.0/26'],
      borrowedHere: ['fd00:244::9:1'],
    });
    expect(d.paths[6]).toHaveLength(3);
    expect(issues).toEqual(['Node n1: IPv6 blocks are not announced: no tabby.dev/bgp-ipv6 address']);
    // No IPv6 blocks, or an IPv6 address: nothing to say.
    expect(compute({ nodes: v4only, affineBlocks: ['10.244.1.0/26'] }).issues).toEqual([]);
    expect(compute({ affineBlocks: ['fd00:244::/122'] }).issues).toEqual([]);
    // An IPv6 BGPPeer carries them without a node IPv6 address.
    const tor6 = compute({
      nodes: v4only,
      affineBlocks: ['fd00:244::/122'],
      peers: [bgpPeer('tor6', { peerIP: 'fd00::fe', asNumber: 65000 })],
    });
    expect(tor6.issues).toEqual([]);
  });

  it('unparsable blocks and addresses are reported and left out', () => {
    const { d, issues } = compute({ affineBlocks: ['10.244.1.1/26'], borrowedHere: ['10.244.7'] });
    expect(d.paths).toEqual({ 4: [], 6: [] });
    expect(issues).toEqual([
      expect.stringMatching(/^BlockAffinity 10.244.1.1\/26: .*host bits/),
      expect.stringMatching(/^borrowed address 10.244.7: /),
    ]);
  });
});
