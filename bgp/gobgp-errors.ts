// Typed gobgp errors. gobgpd 3.10 answers almost every failure with gRPC code 2 UNKNOWN and a
// bare Go error text (e.g. "can't overwrite the existing peer: 10.0.0.2"), so this is the one
// place that turns a gRPC status (code, else message) into a kind; callers branch on classes.

/** gRPC status codes tabby cares about (@grpc/grpc-js `status`). */
export const GrpcCode = {
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const;

export type GobgpErrorKind =
  /** gobgpd not reachable (not running, restarting, socket missing) or too slow (deadline). */
  | 'unavailable'
  /** gobgpd runs but StartBgp has not been called (fresh or restarted daemon). */
  | 'not-started'
  | 'already-exists'
  | 'not-found'
  /** A defined set, statement or policy still referenced by a policy or an assignment. */
  | 'in-use'
  | 'other';

export class GobgpError extends Error {
  readonly kind: GobgpErrorKind;
  constructor(
    /** The RPC, e.g. `AddPeer`. */
    readonly op: string,
    /** gRPC status code (2 UNKNOWN for most gobgpd errors). */
    readonly code: number,
    readonly detail: string,
    kind: GobgpErrorKind = 'other',
  ) {
    super(`gobgp ${op}: ${detail || `grpc status ${code}`}`);
    this.name = 'GobgpError';
    this.kind = kind;
  }
}

export class GobgpUnavailableError extends GobgpError {
  constructor(op: string, code: number, detail: string) {
    super(op, code, detail, 'unavailable');
    this.name = 'GobgpUnavailableError';
  }
}

export class GobgpNotStartedError extends GobgpError {
  constructor(op: string, code: number, detail: string) {
    super(op, code, detail, 'not-started');
    this.name = 'GobgpNotStartedError';
  }
}

export class GobgpAlreadyExistsError extends GobgpError {
  constructor(op: string, code: number, detail: string) {
    super(op, code, detail, 'already-exists');
    this.name = 'GobgpAlreadyExistsError';
  }
}

export class GobgpNotFoundError extends GobgpError {
  constructor(op: string, code: number, detail: string) {
    super(op, code, detail, 'not-found');
    this.name = 'GobgpNotFoundError';
  }
}

export class GobgpInUseError extends GobgpError {
  constructor(op: string, code: number, detail: string) {
    super(op, code, detail, 'in-use');
    this.name = 'GobgpInUseError';
  }
}

/**
 * gobgpd 3.10's error texts (pkg/server/server.go, internal/pkg/table/policy.go), by kind. Only
 * consulted for code UNKNOWN; first match wins, so "in use" is tested before "not found".
 */
const messagePatterns: [RegExp, GobgpErrorKind][] = [
  // "bgp server hasn't started yet"; ListDefinedSet before StartBgp says "invalid defined-set
  // type: 0" even for PREFIX (the policy tables are made by StartBgp; tabby sends valid types).
  [/hasn't started|invalid defined-set type/i, 'not-started'],
  // "can't delete. defined-set X is in use", "... policy X is in use", "neighbor X is in use"
  [/\bis in use\b/i, 'in-use'],
  // "can't overwrite the existing peer: X", "statement X already defined", "... already exists",
  // "listen tcp4 0.0.0.0:179: bind: address already in use" stays 'other' (no match: 'in use' above
  // needs "is in use"; "already in use" is a host problem, not an existing object).
  [/can't overwrite the existing|already defined|already exists/i, 'already-exists'],
  // "neighbor that has X doesn't exist", "not found policy X", "not found defined-set: X",
  // "can't find a specified path", "no such peer-group", DeletePeer's "can't delete a peer
  // configuration for X"
  [
    /doesn't exist|does not exist|not found|can't find|no such|can't delete a peer configuration/i,
    'not-found',
  ],
];

/** Pure: the kind of a gRPC failure. */
export function classifyGobgpStatus(code: number, message: string): GobgpErrorKind {
  switch (code) {
    case GrpcCode.UNAVAILABLE:
    case GrpcCode.DEADLINE_EXCEEDED:
      return 'unavailable';
    case GrpcCode.NOT_FOUND:
      return 'not-found';
    case GrpcCode.ALREADY_EXISTS:
      return 'already-exists';
    case GrpcCode.FAILED_PRECONDITION:
      return /hasn't started/i.test(message) ? 'not-started' : 'other';
    case GrpcCode.UNKNOWN:
      for (const [re, kind] of messagePatterns) if (re.test(message)) return kind;
      return 'other';
    default:
      return 'other';
  }
}

const classes: Record<GobgpErrorKind, new (op: string, code: number, detail: string) => GobgpError> = {
  unavailable: GobgpUnavailableError,
  'not-started': GobgpNotStartedError,
  'already-exists': GobgpAlreadyExistsError,
  'not-found': GobgpNotFoundError,
  'in-use': GobgpInUseError,
  other: GobgpError,
};

/** Pure: a GobgpError of the right class for a gRPC status. */
export function gobgpErrorFor(op: string, code: number, message: string): GobgpError {
  return new classes[classifyGobgpStatus(code, message)](op, code, message);
}

/** Converts whatever an RPC rejected with (a grpc-js ServiceError or anything) into a GobgpError. */
export function toGobgpError(op: string, e: unknown): GobgpError {
  if (e instanceof GobgpError) return e;
  const err = e as { code?: unknown; details?: unknown; message?: unknown };
  const code = typeof err?.code === 'number' ? err.code : GrpcCode.UNKNOWN;
  const message =
    typeof err?.details === 'string' && err.details
      ? err.details
      : typeof err?.message === 'string'
        ? err.message
        : String(e);
  return gobgpErrorFor(op, code, message);
}

export const isGobgpErrorKind = (e: unknown, kind: GobgpErrorKind): boolean =>
  e instanceof GobgpError && e.kind === kind;
