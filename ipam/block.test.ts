import { describe, expect, it } from 'vitest';
import { parseCidr } from '../common/addr.js';
import {
  allocatedCount,
  allocateNext,
  allocateOrdinal,
  availableCount,
  holdings,
  newBlockSpec,
  ordinalOf,
  release,
  unallocate,
} from './block.js';

const T0 = Date.parse('2026-11-21T00:00:00Z');
const attrs = (handle: string) => ({ handle, node: 'n1' });

describe('block', () => {
  it('hands out ordinals in order and records who holds them', () => {
    const b = newBlockSpec(parseCidr('10.244.1.0/30'), 'n1');
    expect(allocateNext(b, 2, attrs('a'), T0, 0).map((h) => h.address)).toEqual(['10.244.1.0', '10.244.1.1']);
    expect(allocateNext(b, 5, attrs('b'), T0, 0).map((h) => h.address)).toEqual(['10.244.1.2', '10.244.1.3']);
    expect(allocatedCount(b)).toBe(4);
    expect(holdings(b).map((h) => h.attributes.handle)).toEqual(['a', 'a', 'b', 'b']);
    expect(new Set(holdings(b).map((h) => h.attributes.sequence)).size).toBe(2);
  });

  it('puts released ordinals at the back and holds them for the cooldown', () => {
    const b = newBlockSpec(parseCidr('10.244.1.0/30'));
    allocateNext(b, 2, attrs('a'), T0, 0);
    expect(release(b, (h) => h.ordinal === 0, T0).map((h) => h.address)).toEqual(['10.244.1.0']);
    expect(availableCount(b, T0, 1000)).toBe(2);
    expect(allocateNext(b, 3, attrs('b'), T0, 1000).map((h) => h.ordinal)).toEqual([2, 3]);
    expect(allocateNext(b, 1, attrs('c'), T0 + 1000, 1000).map((h) => h.ordinal)).toEqual([0]);
    expect(b.attributes).toHaveLength(4); // compacted: a (ordinal 1), b, b, c
  });

  it('gives a specific ordinal once and names its holder after', () => {
    const b = newBlockSpec(parseCidr('fd00::/126'));
    expect(ordinalOf(b, 'fd00::2')).toBe(2);
    const first = allocateOrdinal(b, 2, attrs('a'));
    expect('taken' in first && first.taken.address).toBe('fd00::2');
    const second = allocateOrdinal(b, 2, attrs('b'));
    expect('heldBy' in second && second.heldBy.handle).toBe('a');
    expect(b.free.map((f) => f.ordinal)).toEqual([0, 1, 3]);
  });

  it('undoes unwritten grants without a cooldown', () => {
    const b = newBlockSpec(parseCidr('10.244.1.0/30'));
    const got = allocateNext(b, 2, attrs('a'), T0, 0);
    unallocate(b, got);
    expect(allocatedCount(b)).toBe(0);
    expect(b.free).toEqual([{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }, { ordinal: 3 }]);
    expect(b.attributes).toEqual([]);
  });

  it('keeps the cooldown of an undone grant', () => {
    const b = newBlockSpec(parseCidr('10.244.1.0/30'));
    allocateNext(b, 1, attrs('a'), T0, 0);
    release(b, () => true, T0);
    const got = allocateNext(b, 4, attrs('b'), T0, 0); // cooldown 0: takes the released one too
    unallocate(b, got);
    expect(availableCount(b, T0, 1000)).toBe(3);
  });
});
