// The description tabby gives each gobgpd neighbor: `tabby <kind> <source>`, e.g.
// `tabby mesh node2` or `tabby global tor-a`. `tabby node status` parses it back to tell the
// peer's type and origin; anything else is a neighbor tabby did not configure.
import type { PeerKind } from './desired-types.js';

const KINDS: readonly PeerKind[] = ['mesh', 'global', 'node', 'reflector', 'reflector-client'];

export function formatPeerDescription(kind: PeerKind, source: string): string {
  return `tabby ${kind} ${source}`;
}

/** The kind and source of a description tabby wrote; undefined for any other text. */
export function parsePeerDescription(text: string): { kind: PeerKind; source: string } | undefined {
  const m = /^tabby (\S+) (\S+)$/.exec(text);
  if (!m) return undefined;
  const kind = KINDS.find((k) => k === m[1]);
  return kind ? { kind, source: m[2] as string } : undefined;
}
