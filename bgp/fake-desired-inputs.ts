// Builders for bgp/desired*.test.ts (pure, no test framework): nodes with BGP annotations,
// BGPPeers, inputs with defaults, and a check of the structural promises every DesiredBgp keeps.
import {
  type BGPPeerSpec,
  NODE_BGP_ANNOTATIONS,
  type NodeInfo,
  type Resource,
} from '../datastore/resources.js';
import type { DesiredBgp } from './desired-types.js';
import type { BgpInputs } from './inputs-types.js';

export interface NodeOptions {
  ipv4?: string;
  ipv6?: string;
  asn?: string;
  routerId?: string;
  clusterId?: string;
  labels?: Record<string, string>;
  addresses?: NodeInfo['addresses'];
}

export function node(name: string, o: NodeOptions = {}): NodeInfo {
  const annotations: Record<string, string> = {};
  if (o.ipv4 !== undefined) annotations[NODE_BGP_ANNOTATIONS.ipv4] = o.ipv4;
  if (o.ipv6 !== undefined) annotations[NODE_BGP_ANNOTATIONS.ipv6] = o.ipv6;
  if (o.asn !== undefined) annotations[NODE_BGP_ANNOTATIONS.asn] = o.asn;
  if (o.routerId !== undefined) annotations[NODE_BGP_ANNOTATIONS.routerId] = o.routerId;
  if (o.clusterId !== undefined) annotations[NODE_BGP_ANNOTATIONS.routeReflectorClusterId] = o.clusterId;
  return { name, labels: o.labels ?? {}, annotations, addresses: o.addresses ?? [] };
}

/** Node `n<i>` with 10.0.0.<i> and fd00::<i>. */
export const dual = (i: number, o: NodeOptions = {}): NodeInfo =>
  node(`n${i}`, { ipv4: `10.0.0.${i}`, ipv6: `fd00::${i}`, ...o });

export const bgpPeer = (
  name: string,
  spec: Partial<BGPPeerSpec> & Record<string, unknown>,
): Resource<BGPPeerSpec> => ({
  metadata: { name },
  spec: spec as BGPPeerSpec,
});

export function inputs(over: Partial<BgpInputs> = {}): BgpInputs {
  return {
    node: 'n1',
    nodes: [dual(1), dual(2), dual(3)],
    peers: [],
    secrets: new Map(),
    pools: [{ cidr: '10.244.0.0/16' }, { cidr: 'fd00:244::/56' }],
    affineBlocks: [],
    borrowedHere: [],
    borrowedElsewhere: [],
    ...over,
  };
}

/**
 * What breaks the promises every DesiredBgp keeps (empty when none): every set a statement names
 * exists, is non-empty and single-family; names are unique and tabby's; the assignments name
 * existing policies; one neighbor per address.
 */
export function malformations(d: DesiredBgp): string[] {
  const out: string[] = [];
  const sets = new Map(d.definedSets.map((s) => [s.name, s]));
  if (sets.size !== d.definedSets.length) out.push('duplicate set names');
  for (const s of d.definedSets) {
    if (!s.name.startsWith('tabby-')) out.push(`set ${s.name}: not a tabby name`);
    const entries = s.type === 'prefix' ? s.prefixes.map((p) => p.prefix) : s.addresses;
    if (entries.length === 0) out.push(`set ${s.name}: empty`);
    if (new Set(entries.map((e) => e.includes(':'))).size > 1) out.push(`set ${s.name}: mixed families`);
  }
  const statementNames = d.policies.flatMap((p) => p.statements.map((s) => s.name));
  if (new Set(statementNames).size !== statementNames.length) out.push('duplicate statement names');
  for (const p of d.policies) {
    if (!/^tabby-(import|export)-[0-9a-f]{8}$/.test(p.name)) out.push(`policy ${p.name}: bad name`);
    if (p.statements.length === 0) out.push(`policy ${p.name}: no statements`);
    for (const st of p.statements) {
      const { prefixSet, neighborSet } = st.conditions;
      if (prefixSet !== undefined && sets.get(prefixSet)?.type !== 'prefix')
        out.push(`${st.name}: no prefix set ${prefixSet}`);
      if (neighborSet !== undefined && sets.get(neighborSet)?.type !== 'neighbor')
        out.push(`${st.name}: no neighbor set ${neighborSet}`);
    }
  }
  const policies = new Set(d.policies.map((p) => p.name));
  for (const a of [d.importAssignment, d.exportAssignment]) {
    if (a.defaultAction !== 'reject') out.push(`${a.direction}: default ${a.defaultAction}`);
    for (const name of a.policies) if (!policies.has(name)) out.push(`${a.direction}: no policy ${name}`);
  }
  if (d.importAssignment.policies.length !== 1) out.push('import: not one policy');
  const addresses = d.peers.map((p) => p.address);
  if (new Set(addresses).size !== addresses.length) out.push('two neighbors with one address');
  return out;
}
