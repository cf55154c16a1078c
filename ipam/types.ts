// What callers of the IPAM pass in and get back.
import type { IpFamily } from '../common/addr.js';

export interface AssignOptions {
  /** Number of IPv4 addresses wanted from pools (default 0). */
  v4?: number;
  /** Number of IPv6 addresses wanted from pools (default 0). */
  v6?: number;
  /** Pool(s) to use, by name or CIDR, at most one per family; others are chosen automatically. */
  pool?: string | string[];
  /** Specific address(es) wanted, in addition to the counts. */
  ip?: string | string[];
  /** Recorded with each address, for `check`, GC and operators. */
  attrs?: { namespace?: string; pod?: string };
}

export interface AssignedAddress {
  family: IpFamily;
  address: string;
  /** CIDR of the block it came from. */
  block: string;
}

export interface AssignResult {
  handle: string;
  addresses: AssignedAddress[];
  /** True when the handle already held addresses and those were returned (a retried ADD). */
  existing: boolean;
}

export interface ReleaseResult {
  handle: string;
  /** Addresses freed; empty when the handle held nothing (release is idempotent). */
  released: string[];
}
