import { describe, expect, it } from 'vitest';
import { formatPingMatrix } from './ping-matrix.js';

describe('ping matrix output', () => {
  it('shows a grid and counts failures', () => {
    const text = formatPingMatrix([
      { from: 'node1', to: 'node1', ok: true },
      { from: 'node1', to: 'node2', ok: false },
      { from: 'node2', to: 'node1', ok: true },
      { from: 'node2', to: 'node2', ok: true },
    ]);
    expect(text.split('\n')).toEqual([
      'from\\to  node1    node2    ',
      'node1    ok       FAIL     ',
      'node2    ok       ok       ',
      '1 of 4 pings FAILED',
    ]);
  });
});
