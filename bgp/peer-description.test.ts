import { describe, expect, it } from 'vitest';
import { formatPeerDescription, parsePeerDescription } from './peer-description.js';

describe('peer descriptions', () => {
  it('round-trips every kind', () => {
    for (const kind of ['mesh', 'global', 'node', 'reflector', 'reflector-client'] as const) {
      const text = formatPeerDescription(kind, 'node-a.example');
      expect(text).toBe(`tabby ${kind} node-a.example`);
      expect(parsePeerDescription(text)).toEqual({ kind, source: 'node-a.example' });
    }
  });

  it('is undefined for descriptions tabby did not write', () => {
    for (const text of ['', 'tor-a', 'tabby mesh', 'tabby bogus n1', 'tabby mesh a b', 'xtabby mesh n1']) {
      expect(parsePeerDescription(text)).toBeUndefined();
    }
  });
});
