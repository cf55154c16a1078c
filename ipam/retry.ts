// Bounded retries for compare-and-swap loops, with full jitter so that writers who collided do
// not collide again in lockstep.
import { setTimeout as sleep } from 'node:timers/promises';
import { isDatastoreError } from '../datastore/errors.js';
import { IpamError } from './errors.js';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 30, baseMs: 2, maxMs: 250 };

/** Sleeps a random time in [0, min(maxMs, baseMs * 2^attempt)]. */
export const backoff = (policy: RetryPolicy, attempt: number): Promise<void> =>
  sleep(Math.random() * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));

/** Whether a datastore error means "re-read and try again". */
export const isCasMiss = (e: unknown): boolean =>
  isDatastoreError(e, 'Conflict') || isDatastoreError(e, 'AlreadyExists');

/**
 * Runs `attempt` until it returns without a compare-and-swap miss (Conflict / AlreadyExists),
 * at most `policy.attempts` times. Other errors propagate at once.
 */
export async function withCasRetry<T>(
  what: string,
  attempt: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isCasMiss(e)) throw e;
      if (i + 1 >= policy.attempts) {
        throw new IpamError('Contention', `${what}: still conflicting after ${policy.attempts} attempts`);
      }
      await backoff(policy, i);
    }
  }
}
