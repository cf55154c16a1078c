// Everything bgp/desired.ts needs to compute one node's BGP speaker, as gathered from the
// datastore by bgp/inputs.ts (or written by hand in tests).
import type {
  BGPConfigurationSpec,
  BGPPeerSpec,
  IPPoolSpec,
  NodeInfo,
  Resource,
  SecretKeyRef,
} from '../datastore/resources.js';

export interface BgpInputs {
  /** This node's name. */
  node: string;
  /** Every Node of the cluster (this one included). */
  nodes: NodeInfo[];
  /** The BGPConfiguration named `default`, if any. */
  config?: BGPConfigurationSpec;
  /** Every BGPPeer (desired.ts picks those that apply to this node). */
  peers: Resource<BGPPeerSpec>[];
  /** Values of the Secret keys the config and the peers refer to, by `secretRefKey`. */
  secrets: Map<string, string>;
  /** Why a referenced Secret key could not be read (by `secretRefKey`), when known. */
  secretErrors?: Map<string, string>;
  /** Every IPPool, disabled ones included (their addresses stay in use). */
  pools: IPPoolSpec[];
  /** CIDRs of the blocks affine to this node (confirmed affinities). */
  affineBlocks: string[];
  /** Addresses this node holds in blocks affine to another node (or to none). */
  borrowedHere: string[];
  /** Addresses other nodes hold in blocks not affine to them. */
  borrowedElsewhere: string[];
  /**
   * gobgpd restarted (or was configured afresh) with routes kept: peers should keep ours (GR
   * R-bit). Known to the speaker only (bgp/speaker.ts sets it); absent: false.
   */
  localRestarting?: boolean;
}

/** The key of a Secret reference in `BgpInputs.secrets`: `namespace/name/key`. */
export const secretRefKey = (ref: SecretKeyRef): string => `${ref.namespace}/${ref.name}/${ref.key}`;
