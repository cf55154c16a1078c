// What this node's BGP speaker should look like: the output of bgp/desired.ts (pure, from the
// datastore's view) and the input of bgp/reconciler.ts (which makes gobgpd match it).
import type { IpFamily } from '../common/addr.js';
import type { BgpGlobal, DefinedSet, PeerConfig, Policy, PolicyAssignment } from './gobgp-api.js';

/** Why a neighbor exists; shown by `tabby node status`. */
export type PeerKind =
  /** node-to-node mesh (same AS, no reflectors in it) */
  | 'mesh'
  /** a BGPPeer without node scope (all nodes, or a nodeSelector) */
  | 'global'
  /** a BGPPeer naming this node */
  | 'node'
  /** this node is a client of that reflector, or both are reflectors */
  | 'reflector'
  /** this node reflects for that node */
  | 'reflector-client';

export interface DesiredPeer extends PeerConfig {
  kind: PeerKind;
  /** The node name (mesh/reflector kinds) or BGPPeer name. */
  source: string;
}

export interface DesiredBgp {
  global: BgpGlobal;
  peers: DesiredPeer[];
  /** Defined sets the policies name. Names carry a content hash, so a changed set is a new set. */
  definedSets: DefinedSet[];
  /** Policies (names carry a content hash) and their global assignments. */
  policies: Policy[];
  importAssignment: PolicyAssignment;
  exportAssignment: PolicyAssignment;
  /** Routes to originate: one per affine block, plus borrowed IPs as host routes. */
  paths: Record<IpFamily, string[]>;
  /** Addresses of this node: learned routes pointing at them are ignored. */
  ownAddresses: string[];
}

/** A part of the configuration that was skipped, and why (names the object and the field). */
export interface BgpIssue {
  /** The object at fault, e.g. `BGPPeer tor-a`, `Node node1`, `BGPConfiguration default`. */
  source: string;
  message: string;
}

/** What `computeDesiredBgp` returns: no `desired` when this node cannot run BGP at all. */
export interface DesiredBgpResult {
  desired?: DesiredBgp;
  issues: BgpIssue[];
}
