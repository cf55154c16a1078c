import { describe, expect, it } from 'vitest';
import type { IPPool, IPPoolSpec } from '../datastore/resources.js';
import { nodeOrder, pickFreeBlock } from './block-picker.js';
import { isIpamError } from './errors.js';
import { eligiblePools, partitionPools, toPool } from './pools.js';
import { selectorMatches } from './selector.js';

const pool = (name: string, spec: IPPoolSpec, createdAt = '2026-01-01T00:00:00Z'): IPPool => ({
  metadata: { name, creationTimestamp: createdAt },
  spec,
});

describe('pools', () => {
  it('defaults block sizes per family and rejects impossible ones naming the field', () => {
    expect(toPool(pool('a', { cidr: '10.244.0.0/16' })).blockSize).toBe(26);
    expect(toPool(pool('b', { cidr: 'fd00::/48' })).blockSize).toBe(122);
    expect(() => toPool(pool('c', { cidr: '10.244.0.0/16', blockSize: 12 }))).toThrow(
      /IPPool c: spec.blockSize/,
    );
    expect(() => toPool(pool('d', { cidr: '10.244.0.1/16' }))).toThrow(/IPPool d: spec.cidr/);
  });

  it('ignores a pool overlapping an older one', () => {
    const { usable, overlapping } = partitionPools([
      toPool(pool('new', { cidr: '10.244.0.0/24' }, '2026-02-01T00:00:00Z')),
      toPool(pool('old', { cidr: '10.244.0.0/16' })),
      toPool(pool('v6', { cidr: 'fd00::/48' })),
    ]);
    expect(usable.map((p) => p.name)).toEqual(['old', 'v6']);
    expect(overlapping).toEqual([
      { pool: 'new', cidr: '10.244.0.0/24', overlaps: 'old', overlapsCidr: '10.244.0.0/16' },
    ]);
  });

  it('selects pools by family, state and node selector', () => {
    const pools = [
      toPool(pool('a', { cidr: '10.1.0.0/16', nodeSelector: { matchLabels: { zone: 'a' } } })),
      toPool(pool('off', { cidr: '10.2.0.0/16', disabled: true })),
      toPool(pool('v6', { cidr: 'fd00::/48' })),
    ];
    expect(eligiblePools(pools, 4, 'n', { zone: 'a' }).map((p) => p.name)).toEqual(['a']);
    expect(eligiblePools(pools, 6, 'n', {}).map((p) => p.name)).toEqual(['v6']);
    const e = (() => {
      try {
        eligiblePools(pools, 4, 'n', { zone: 'b' });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(isIpamError(e, 'NoPool')).toBe(true);
    expect(() => eligiblePools(pools, 4, 'n', {}, 'off')).toThrow(/IPPool off is disabled/);
  });

  it('evaluates label selectors like Kubernetes', () => {
    const labels = { zone: 'a', tier: 'edge' };
    expect(selectorMatches(undefined, labels)).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }, labels),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels),
    ).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, labels)).toBe(
      true,
    );
    expect(
      selectorMatches(
        { matchLabels: { zone: 'a' }, matchExpressions: [{ key: 'gpu', operator: 'Exists' }] },
        labels,
      ),
    ).toBe(false);
  });
});

describe('block picker', () => {
  const p = toPool(pool('p', { cidr: '10.244.0.0/24' })); // four /26 blocks
  it('finds every free block and then reports the pool full', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const c = pickFreeBlock(p, taken, 'node-x');
      expect(c).toBeDefined();
      taken.add(`${c?.network}/${c?.prefixLength}`);
    }
    expect(taken.size).toBe(4);
    expect(pickFreeBlock(p, taken, 'node-x')).toBeUndefined();
  });

  it('starts different nodes at different blocks of a large pool', () => {
    const big = toPool(pool('big', { cidr: '10.0.0.0/8' }));
    const starts = new Set(
      ['n1', 'n2', 'n3', 'n4'].map((n) => JSON.stringify(pickFreeBlock(big, new Set(), n))),
    );
    expect(starts.size).toBe(4);
    const v6 = toPool(pool('v6', { cidr: 'fd00::/48' }));
    expect(pickFreeBlock(v6, new Set(), 'n1')?.prefixLength).toBe(122);
  });

  it('orders candidates stably per node', () => {
    const items = ['a', 'b', 'c', 'd', 'e'];
    expect(nodeOrder(items, (x) => x, 'n1')).toEqual(nodeOrder(items, (x) => x, 'n1'));
    expect(nodeOrder(items, (x) => x, 'n1').sort()).toEqual(items);
  });
});
