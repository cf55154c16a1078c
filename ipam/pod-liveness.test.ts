import { describe, expect, it } from 'vitest';
import { POD_IPS_ANNOTATION, type PodInfo } from '../datastore/resources.js';
import { allocationAlive } from './pod-liveness.js';

const attrs = { handle: 'net/c1', namespace: 'default', pod: 'web-0', node: 'n1', sequence: 1 };
const pod = (node: string | undefined, ips?: string): PodInfo => ({
  namespace: 'default',
  name: 'web-0',
  uid: 'u',
  node,
  annotations: ips === undefined ? {} : { [POD_IPS_ANNOTATION]: ips },
});

describe('is an allocation alive, by its pod', () => {
  it.each([
    ['no pod identity: never called dead', { handle: 'x', sequence: 0 }, undefined, true],
    ['its pod is gone', attrs, undefined, false],
    ['its pod runs on the node that asked', attrs, pod('n1'), true],
    ['its pod is not scheduled yet', attrs, pod(undefined), true],
    ['its pod was re-created on another node', attrs, pod('n2'), false],
    ['the pod lists this address', attrs, pod('n1', '10.244.0.5,fd00::5'), true],
    ['the pod lists another address (a newer sandbox)', attrs, pod('n1', '10.244.0.9'), false],
  ])('%s', (_what, a, p, alive) => {
    expect(allocationAlive(a, '10.244.0.5', p)).toBe(alive);
  });
});
