// `tabby node status`: this node's BGP speaker as gobgpd reports it — the global settings and one
// line per peer (address, type from the description tabby wrote, AS, state, since, prefixes
// received / accepted / advertised). The formatting is pure; the caller fetches. Passwords never
// leave: `redactNodeStatus` replaces them before anything is printed.
import type { BgpGlobal, PeerStatus } from '../bgp/gobgp-api.js';
import { parsePeerDescription } from '../bgp/peer-description.js';
import { table } from '../common/table.js';

export interface NodeStatus {
  global: BgpGlobal | undefined;
  peers: PeerStatus[];
}

/** What `tabby node status` shows instead of a peer's TCP MD5 password (gobgpd returns it in clear). */
export const PASSWORD_SET = '(set)';

/** The status with every peer's password replaced by `(set)`: safe to print, in JSON or not. */
export function redactNodeStatus(status: NodeStatus): NodeStatus {
  return {
    ...status,
    peers: status.peers.map((p) =>
      p.config.password ? { ...p, config: { ...p.config, password: PASSWORD_SET } } : p,
    ),
  };
}

const TYPE_LABEL: Record<string, string> = {
  mesh: 'node-to-node mesh',
  global: 'global',
  node: 'node specific',
  reflector: 'route reflector',
  'reflector-client': 'reflector client',
};

/** `3h12m`, `4m05s`, `12s`: how long ago `since` was. */
export function formatSince(since: Date | undefined, now: Date): string {
  if (!since) return '-';
  let s = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

function stateLabel(p: PeerStatus): string {
  if (p.adminState === 'pfx_ct') return 'down (max prefixes)';
  if (p.adminState === 'down') return 'down (admin)';
  return p.state;
}

export function formatNodeStatus(status: NodeStatus, now: Date = new Date()): string {
  if (!status.global) return 'BGP is not started (the agent has not configured gobgpd yet)';
  const g = status.global;
  const lines = [`BGP: AS ${g.asn}, router id ${g.routerId}, port ${g.listenPort}`];
  for (const family of [4, 6] as const) {
    const peers = status.peers
      .filter((p) => p.config.address.includes(':') === (family === 6))
      .sort((a, b) => a.config.address.localeCompare(b.config.address, 'en', { numeric: true }));
    lines.push('', `IPv${family} BGP peers`);
    if (peers.length === 0) {
      lines.push(`  no IPv${family} peers`);
      continue;
    }
    const rows = [
      ['PEER ADDRESS', 'PEER TYPE', 'NAME', 'AS', 'STATE', 'SINCE', 'RECEIVED', 'ACCEPTED', 'ADVERTISED'],
    ];
    for (const p of peers) {
      const d = parsePeerDescription(p.config.description);
      rows.push([
        p.config.address,
        d ? (TYPE_LABEL[d.kind] ?? d.kind) : 'unmanaged',
        d?.source ?? p.config.description,
        String(p.config.asn),
        stateLabel(p),
        formatSince(p.state === 'established' ? p.establishedSince : undefined, now),
        String(p.received),
        String(p.accepted),
        String(p.advertised),
      ]);
    }
    lines.push(
      table(rows)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  return lines.join('\n');
}
