import { describe, expect, it } from 'vitest';
import { KeyStatus } from './key-status.js';
import type { Route } from './types.js';

const policy = { baseMs: 50, maxMs: 5_000, pendingMaxMs: 1_000, graceMs: 10_000 };
const via = (...devs: string[]): Route => ({
  family: 4,
  dst: '10.244.2.0/26',
  type: 'unicast',
  nexthops: devs.map((dev, i) => ({ via: `198.18.0.${i + 1}`, dev })),
});

describe('KeyStatus: pending keys by device', () => {
  it('follows a pending route to its new devices and forgets it when it settles or fails', () => {
    const s = new KeyStatus(policy);
    s.waitingForDevice('k', via('a', 'b'), 0);
    expect(s.pendingOn('a')).toEqual(['k']);
    expect(s.pendingOn('b')).toEqual(['k']);
    s.waitingForDevice('k', via('c'), 10);
    expect([s.pendingOn('a'), s.pendingOn('b'), s.pendingOn('c')]).toEqual([[], [], ['k']]);
    s.failed('k', 20, 'boom');
    expect(s.pendingOn('c')).toEqual([]);
    s.waitingForDevice('k', via('c'), 30);
    s.waitingForDevice('j', via('c'), 30);
    expect(s.pendingOn('c')).toEqual(['k', 'j']);
    s.settle('k');
    expect(s.pendingOn('c')).toEqual(['j']);
  });

  it('conflicts are retried on resyncs only; overdue pending keys likewise', () => {
    const s = new KeyStatus(policy);
    s.conflict('x', via('a'), 'foreign');
    expect(s.retryAt('x')).toBe(Number.POSITIVE_INFINITY);
    s.waitingForDevice('p', via('a'), 0);
    expect(s.retryAt('p')).toBe(50);
    s.waitingForDevice('p', via('a'), 10_000);
    expect(s.retryAt('p')).toBe(Number.POSITIVE_INFINITY);
  });
});
