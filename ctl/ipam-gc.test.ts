import { describe, expect, it } from 'vitest';
import { parseDuration } from './ipam-gc.js';

describe('durations', () => {
  it.each([
    ['15m', 900_000],
    ['90s', 90_000],
    ['2h', 7_200_000],
    ['500ms', 500],
    ['30', 30_000],
    ['0', 0],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text, '--grace')).toBe(ms));

  it('names the flag when the text is no duration', () => {
    expect(() => parseDuration('soon', '--grace')).toThrow(/--grace: not a duration/);
  });
});
