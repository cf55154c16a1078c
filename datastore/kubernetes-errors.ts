// Turns what @kubernetes/client-node throws (ApiException with the HTTP status and the API
// server's Status body, or a network error) into a DatastoreError with a reason callers branch on.
import { DatastoreError, type DatastoreErrorReason } from './errors.js';

/** The parts of a Kubernetes `Status` object we read. */
export interface KubeStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export type Operation = 'get' | 'list' | 'create' | 'update' | 'delete' | 'watch' | 'patch';

/** The API server's Status from an ApiException body (a JSON string in client-node 1.x). */
export function statusOf(e: unknown): { code: number; status: KubeStatus } | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, body, statusCode } = e as { code?: unknown; body?: unknown; statusCode?: unknown };
  const http = typeof code === 'number' ? code : typeof statusCode === 'number' ? statusCode : undefined;
  if (http === undefined) return undefined;
  let status: KubeStatus = {};
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body) as KubeStatus;
    } catch {
      status = { message: body.trim() };
    }
  } else if (typeof body === 'object' && body !== null) {
    status = body as KubeStatus;
  }
  return { code: http, status };
}

/** Status code → reason. 409 is AlreadyExists on create, Conflict (a failed precondition) otherwise. */
export function reasonFor(code: number, op: Operation, apiReason?: string): DatastoreErrorReason {
  if (code === 404) return 'NotFound';
  if (code === 409) return op === 'create' || apiReason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict';
  // 410 Gone: a resourceVersion too old to list or watch from (as memory.ts reports it).
  if (code === 410) return 'Conflict';
  if (code === 401 || code === 403) return 'Forbidden';
  // 429 (throttled, or a resource's storage still initialising) and 5xx: not usable right now.
  if (code === 429 || code >= 500) return 'Unavailable';
  return 'Invalid';
}

const NETWORK_CODE = /^(E[A-Z]+|UND_ERR.*|ERR_SSL.*|ERR_TLS.*|ABORT_ERR)$/;

function isNetworkError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return (
    e.name === 'FetchError' ||
    e.name === 'AbortError' ||
    (typeof code === 'string' && NETWORK_CODE.test(code))
  );
}

/**
 * The DatastoreError for a failed API call on `what` (e.g. `IPPool pool-a`). Errors that are
 * neither API answers nor network failures (programming errors) are returned unchanged.
 */
export function toDatastoreError(e: unknown, op: Operation, what: string): unknown {
  if (e instanceof DatastoreError) return e;
  const s = statusOf(e);
  if (s) {
    const reason = reasonFor(s.code, op, s.status.reason);
    const text = e instanceof Error && !(e as { body?: unknown }).body ? e.message : '';
    const detail = s.status.message || s.status.reason || `HTTP ${s.code} ${text}`.trim();
    return new DatastoreError(reason, `${op} ${what}: ${detail}`, s.code);
  }
  if (isNetworkError(e)) {
    return new DatastoreError('Unavailable', `${op} ${what}: ${(e as Error).message}`);
  }
  return e;
}

/** Attempts for a call the API server refused with 429 (it did not process it: safe to repeat). */
export const THROTTLED_ATTEMPTS = 5;

/**
 * Runs an API call, rethrowing its failure as a DatastoreError. A 429 answer (throttling, or a
 * CRD's storage re-initialising) is retried a few times with backoff first, as client-go does.
 */
export async function mapErrors<T>(
  op: Operation,
  what: string,
  call: () => Promise<T>,
  backoffMs = 50,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (statusOf(e)?.code === 429 && attempt < THROTTLED_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, backoffMs * 2 ** attempt));
        continue;
      }
      throw toDatastoreError(e, op, what);
    }
  }
}
