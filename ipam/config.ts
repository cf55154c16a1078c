// Effective cluster-wide IPAM settings: the stored IPAMConfig with defaults filled in.
import type { IPAMConfigSpec } from '../datastore/resources.js';

export interface IpamSettings {
  strictAffinity: boolean;
  /** 0 = no limit. */
  maxBlocksPerNode: number;
  cooldownMs: number;
}

export const DEFAULT_MAX_BLOCKS_PER_NODE = 20;
export const DEFAULT_COOLDOWN_SECONDS = 30;

export function ipamSettings(spec: IPAMConfigSpec | undefined): IpamSettings {
  return {
    strictAffinity: spec?.strictAffinity ?? false,
    maxBlocksPerNode: spec?.maxBlocksPerNode ?? DEFAULT_MAX_BLOCKS_PER_NODE,
    cooldownMs: (spec?.cooldownSeconds ?? DEFAULT_COOLDOWN_SECONDS) * 1000,
  };
}
