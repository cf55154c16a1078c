// Typed IPAM errors. `reason` is what callers branch on (the CNI plugin maps them to CNI codes);
// messages name the pool, node, address or field involved.

export type IpamErrorReason =
  /** The request itself is malformed (names the field). */
  | 'InvalidArgument'
  /** No enabled pool of the family selects the node (or the named pool does not). */
  | 'NoPool'
  /** The eligible pools have no free address left (names them). */
  | 'PoolExhausted'
  /** A requested address is held by another handle. */
  | 'AddressInUse'
  /** A requested address lies in no pool. */
  | 'AddressNotInPool'
  /** Compare-and-swap kept failing: too many concurrent writers. Safe to retry. */
  | 'Contention';

export class IpamError extends Error {
  readonly code = 'TABBY_IPAM';
  constructor(
    readonly reason: IpamErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'IpamError';
  }
}

export const isIpamError = (e: unknown, reason?: IpamErrorReason): e is IpamError =>
  e instanceof IpamError && (reason === undefined || e.reason === reason);
