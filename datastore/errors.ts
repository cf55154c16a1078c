// Typed datastore errors: callers branch on `reason`, never on message text.

export type DatastoreErrorReason =
  | 'NotFound'
  | 'AlreadyExists'
  /** resourceVersion (or uid) precondition failed: somebody else wrote first. */
  | 'Conflict'
  /** The store refused the object (API server validation). */
  | 'Invalid'
  /** Credentials or RBAC refuse the call (HTTP 401/403): retrying will not help. */
  | 'Forbidden'
  /** The store could not be reached, throttled us, or answered with a server error. */
  | 'Unavailable';

export class DatastoreError extends Error {
  readonly code = 'TABBY_DATASTORE';
  constructor(
    readonly reason: DatastoreErrorReason,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DatastoreError';
  }
}

export const isDatastoreError = (e: unknown, reason?: DatastoreErrorReason): e is DatastoreError =>
  e instanceof DatastoreError && (reason === undefined || e.reason === reason);
