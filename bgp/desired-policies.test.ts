import { describe, expect, it } from 'vitest';
import { computeDesiredBgp } from './desired.js';
import type { DesiredBgp } from './desired-types.js';
import { bgpPeer, dual, inputs, malformations } from './fake-desired-inputs.js';
import type { DefinedSet, Policy, PrefixMatch } from './gobgp-api.js';
import type { BgpInputs } from './inputs-types.js';

function desired(over: Partial<BgpInputs> = {}): DesiredBgp {
  const { desired: d, issues } = computeDesiredBgp(inputs(over));
  if (!d) throw new Error(JSON.stringify(issues));
  expect(malformations(d)).toEqual([]);
  return d;
}

const policyOf = (d: DesiredBgp, direction: 'import' | 'export'): Policy | undefined => {
  const name = (direction === 'import' ? d.importAssignment : d.exportAssignment).policies[0];
  return d.policies.find((p) => p.name === name);
};

/** Statements as `action role [set contents] (neighbors) routeType`, policy names stripped. */
function render(d: DesiredBgp, direction: 'import' | 'export'): string[] {
  const sets = new Map<string, DefinedSet>(d.definedSets.map((s) => [s.name, s]));
  const entries = (name?: string) => {
    const s = name === undefined ? undefined : sets.get(name);
    if (!s) return '';
    if (s.type === 'neighbor') return ` (${s.addresses.join(' ')})`;
    const m = (p: PrefixMatch) => {
      const len = Number(p.prefix.split('/')[1]);
      return p.minLength === len && p.maxLength === len
        ? p.prefix
        : `${p.prefix}:${p.minLength}-${p.maxLength}`;
    };
    return ` [${s.prefixes.map(m).join(' ')}]`;
  };
  return (policyOf(d, direction)?.statements ?? []).map((st) => {
    const role = st.name.replace(/^tabby-(import|export)-[0-9a-f]{8}-/, '');
    const c = st.conditions;
    return `${st.action} ${role}${entries(c.prefixSet)}${entries(c.neighborSet)}${c.routeType ? ` ${c.routeType}` : ''}`;
  });
}

const names = (d: DesiredBgp) => ({
  sets: d.definedSets.map((s) => s.name),
  import: d.importAssignment.policies,
  export: d.exportAssignment.policies,
});

const tor = { peerIP: '10.0.0.254', asNumber: 65000 };
const full: Partial<BgpInputs> = {
  pools: [
    { cidr: '10.244.0.0/16' },
    { cidr: '10.96.0.0/20', blockSize: 28, disabled: true },
    { cidr: 'fd00:244::/56' },
  ],
  affineBlocks: ['10.244.1.0/26', '10.244.1.64/26', 'fd00:244::/122'],
  borrowedHere: ['10.244.2.7', 'fd00:244::1:5'],
  borrowedElsewhere: ['10.244.1.9', '10.244.3.3', 'fd00:244::2:2'],
  peers: [
    bgpPeer('tor', { ...tor, allowedPrefixes: ['192.0.2.0/24', '0.0.0.0/0'] }),
    bgpPeer('tor6', { peerIP: 'fd00::fe', asNumber: 65000, allowedPrefixes: ['2001:db8::/32'] }),
  ],
};

describe('BGP policies', () => {
  it('import: local, no default route, borrowed hosts, not our blocks, pool blocks, then what peers may send', () => {
    expect(render(desired(full), 'import')).toEqual([
      'accept accept-local local',
      'reject reject-default-v4 [0.0.0.0/0]',
      'reject reject-default-v6 [::/0]',
      'accept accept-borrowed-v4 [10.244.1.9/32 10.244.3.3/32]',
      'accept accept-borrowed-v6 [fd00:244::2:2/128]',
      'reject reject-own-v4 [10.244.1.0/26:26-32 10.244.1.64/26:26-32]',
      'reject reject-own-v6 [fd00:244::/122:122-128]',
      // Disabled pools keep their addresses in use: their blocks are still routed.
      'accept accept-blocks-v4 [10.96.0.0/20:28-28 10.244.0.0/16:26-26]',
      'accept accept-blocks-v6 [fd00:244::/56:122-122]',
      'accept accept-allowed-0 [0.0.0.0/0:0-32 192.0.2.0/24:24-32] (10.0.0.254)',
      'accept accept-allowed-1 [2001:db8::/32:32-128] (fd00::fe)',
    ]);
    const d = desired(full);
    expect(d.importAssignment).toEqual({
      direction: 'import',
      policies: [policyOf(d, 'import')?.name],
      defaultAction: 'reject',
    });
  });

  it('export: exactly our blocks and borrowed host routes, per family', () => {
    const d = desired(full);
    expect(render(d, 'export')).toEqual([
      'accept accept-own-v4 [10.244.1.0/26 10.244.1.64/26 10.244.2.7/32]',
      'accept accept-own-v6 [fd00:244::/122 fd00:244::1:5/128]',
    ]);
    expect(d.exportAssignment).toMatchObject({ direction: 'export', defaultAction: 'reject' });
  });

  it('a route reflector also passes cluster routes to its node peers', () => {
    const d = desired({ ...full, nodes: [dual(1, { clusterId: '1.1.1.1' }), dual(2), dual(3)] });
    expect(render(d, 'export')).toEqual([
      'accept accept-own-v4 [10.244.1.0/26 10.244.1.64/26 10.244.2.7/32]',
      'accept accept-own-v6 [fd00:244::/122 fd00:244::1:5/128]',
      'accept reflect-borrowed-v4 [10.244.1.9/32 10.244.3.3/32] (10.0.0.2 10.0.0.3) internal',
      'accept reflect-blocks-v4 [10.96.0.0/20:28-28 10.244.0.0/16:26-26] (10.0.0.2 10.0.0.3) internal',
      'accept reflect-borrowed-v6 [fd00:244::2:2/128] (fd00::2 fd00::3) internal',
      'accept reflect-blocks-v6 [fd00:244::/56:122-122] (fd00::2 fd00::3) internal',
    ]);
  });

  it('no statement names an empty set: what has no entries is left out', () => {
    const d = desired({ pools: [{ cidr: '10.244.0.0/16' }] });
    expect(render(d, 'import')).toEqual([
      'accept accept-local local',
      'reject reject-default-v4 [0.0.0.0/0]',
      'reject reject-default-v6 [::/0]',
      'accept accept-blocks-v4 [10.244.0.0/16:26-26]',
    ]);
    // Nothing to export yet: no export policy, default reject.
    expect(d.exportAssignment).toEqual({ direction: 'export', policies: [], defaultAction: 'reject' });
    expect(d.policies).toHaveLength(1);
    // A reflector with no node peers of a family: no reflection statement for it.
    const rr = desired({
      pools: [{ cidr: '10.244.0.0/16' }],
      nodes: [dual(1, { clusterId: '1.1.1.1' })],
      affineBlocks: ['10.244.1.0/26'],
    });
    expect(render(rr, 'export')).toEqual(['accept accept-own-v4 [10.244.1.0/26]']);
  });

  it('an allowed prefix list of a peer that is not configured adds nothing', () => {
    const d = desired({
      peers: [
        bgpPeer('locked', {
          ...tor,
          allowedPrefixes: ['192.0.2.0/24'],
          password: { namespace: 'n', name: 's', key: 'k' },
        }),
      ],
    });
    expect(render(d, 'import').some((s) => s.includes('allowed'))).toBe(false);
    expect(d.definedSets.some((s) => s.name.startsWith('tabby-allowed-'))).toBe(false);
  });

  it('names depend on content only: the same content in another order gives the same names', () => {
    const a = desired(full);
    const b = desired({
      ...full,
      nodes: [dual(3), dual(2), dual(1)],
      pools: [...(full.pools ?? [])].reverse(),
      affineBlocks: [...(full.affineBlocks ?? [])].reverse(),
      borrowedHere: [...(full.borrowedHere ?? [])].reverse(),
      borrowedElsewhere: [...(full.borrowedElsewhere ?? [])].reverse(),
      peers: [...(full.peers ?? [])].reverse(),
    });
    expect(b).toEqual(a);
  });

  it('a changed set is a new set, and the policies naming it are new policies', () => {
    const before = names(desired(full));
    const changed = (over: Partial<BgpInputs>) => {
      const after = names(desired({ ...full, ...over }));
      return {
        added: after.sets.filter((s) => !before.sets.includes(s)).map((s) => s.replace(/-[0-9a-f]{8}$/, '')),
        import: after.import[0] !== before.import[0],
        export: after.export[0] !== before.export[0],
      };
    };
    // A new block: own sets change, so both policies.
    expect(changed({ affineBlocks: [...(full.affineBlocks ?? []), '10.244.5.0/26'] })).toEqual({
      added: ['tabby-own-orlonger-v4', 'tabby-own-v4'],
      import: true,
      export: true,
    });
    // A new borrowed address here: only the export side.
    expect(changed({ borrowedHere: [...(full.borrowedHere ?? []), '10.244.9.1'] })).toEqual({
      added: ['tabby-own-v4'],
      import: false,
      export: true,
    });
    // Another node released one: only the import side (the IPv6 set is as it was).
    expect(changed({ borrowedElsewhere: ['10.244.3.3', 'fd00:244::2:2'] })).toEqual({
      added: ['tabby-borrowed-v4'],
      import: true,
      export: false,
    });
    expect(changed({ pools: [{ cidr: '10.244.0.0/16', blockSize: 27 }, { cidr: 'fd00:244::/56' }] })).toEqual(
      {
        added: ['tabby-blocks-v4'],
        import: true,
        export: false,
      },
    );
    // Things policies do not depend on: nothing changes.
    expect(
      changed({
        config: { holdTime: 30, keepaliveTime: 10 },
        nodes: [dual(1), dual(2), dual(4)],
        localRestarting: true,
        peers: (full.peers ?? []).map((p) => ({ ...p, spec: { ...p.spec, holdTime: 9 } })),
      }),
    ).toEqual({ added: [], import: false, export: false });
  });

  it('every set is single-family and every name carries a content hash', () => {
    const d = desired(full);
    for (const s of d.definedSets) expect(s.name).toMatch(/^tabby-[a-z-]+-v[46]-[0-9a-f]{8}$/);
    const families = d.definedSets.map((s) => [
      s.name.match(/-v([46])-/)?.[1],
      s.type === 'prefix' ? s.prefixes[0]?.prefix : s.addresses[0],
    ]);
    for (const [family, first] of families) expect(first?.includes(':')).toBe(family === '6');
  });
});
