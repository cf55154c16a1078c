import { describe, expect, it } from 'vitest';
import { shimSocketFor } from './cleanup.js';
import { cacheFileMatches } from './cni-cache.js';
import { cgroupParentFor } from './containerd.js';

const SANDBOX = 'e2c0141995b8979545020d99bd312a8dc0f5368aa15b5c07c6a1ac3142ca2b69';

describe('libcni cache file matching', () => {
  it('matches by network name, without taking a longer name with the same start', () => {
    expect(cacheFileMatches('ptp-cnitool-0011-eth0', { network: 'ptp' })).toBe(true);
    expect(cacheFileMatches('ptp-x-cnitool-0011-eth0', { network: 'ptp' })).toBe(true);
    expect(
      cacheFileMatches('ptp-x-cnitool-0011-eth0', { network: 'ptp', containerIdPrefix: 'cnitool-' }),
    ).toBe(false);
    expect(
      cacheFileMatches('ptp-x-cnitool-0011-eth0', { network: 'ptp-x', containerIdPrefix: 'cnitool-' }),
    ).toBe(true);
  });

  it('matches by container ID under any network (containerd: the pod network and cni-loopback)', () => {
    const ids = new Set([SANDBOX]);
    expect(cacheFileMatches(`cni-loopback-${SANDBOX}-lo`, { containerIds: ids })).toBe(true);
    expect(cacheFileMatches(`my-net-${SANDBOX}-eth0`, { containerIds: ids })).toBe(true);
    expect(cacheFileMatches(`my-net-${'f'.repeat(64)}-eth0`, { containerIds: ids })).toBe(false);
    expect(cacheFileMatches(`my-net-${SANDBOX}-eth0`, { network: 'other', containerIds: ids })).toBe(false);
  });

  it('matches nothing with an empty filter', () => {
    expect(cacheFileMatches(`cni-loopback-${SANDBOX}-lo`, {})).toBe(false);
  });
});

describe('containerd 1.6 names derived from the instance', () => {
  it('derives the shim socket as sha256(<address>/<namespace>/<id>) (observed on 1.6.20)', () => {
    expect(shimSocketFor('/tmp/exp/ctrd/containerd.sock', SANDBOX)).toBe(
      '/run/containerd/s/1ae69304ea8e416c7fd12f3fb68d8534aba787ea0651f7bd63f8a5497f87956c',
    );
  });

  it('derives a stable cgroup parent per dir', () => {
    expect(cgroupParentFor('/run/a')).toMatch(/^\/tabby-ctrd-[0-9a-f]{12}$/);
    expect(cgroupParentFor('/run/a')).toBe(cgroupParentFor('/run/a'));
    expect(cgroupParentFor('/run/a')).not.toBe(cgroupParentFor('/run/b'));
  });
});
