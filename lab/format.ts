// Human-readable rendering of lab status. Pure.
import { table } from '../common/table.js';
import { isServerSession, type LabStatus } from './status.js';

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export function formatStatus(s: LabStatus): string {
  const out: string[] = [`lab ${s.name}: ${s.phase} since ${s.createdAt}`, ''];
  const nodeRows = [['NODE', 'ROLE', 'NETNS', 'INTERFACES']];
  for (const n of s.nodes) {
    const ifs = n.present
      ? n.interfaces
          .filter((i) => i.name !== 'lo' || i.addresses.length > 0)
          .map(
            (i) =>
              `${i.name}(${i.state.toLowerCase()}${i.addresses.length ? ` ${i.addresses.join(',')}` : ''})`,
          )
          .join(' ')
      : 'MISSING';
    nodeRows.push([n.node, n.daemon ? `${n.role}/${n.daemon}` : n.role, n.netns, ifs]);
  }
  out.push(table(nodeRows), '');
  if (s.links.length > 0) {
    const linkRows = [['LINK', '', '', 'STATE']];
    for (const l of s.links)
      linkRows.push([l.a, '<->', l.b, `${l.stateA.toLowerCase()}/${l.stateB.toLowerCase()}`]);
    out.push(table(linkRows), '');
  }
  const bgpRows = [
    ['ROUTER', 'PEER', 'DESCRIPTION', 'WITH', 'REMOTE AS', 'STATE', 'UP', 'PFX RCVD', 'PFX SENT'],
  ];
  let serversWaiting = 0;
  for (const n of s.nodes) {
    if (n.role !== 'router') continue;
    if (!n.bgp) {
      bgpRows.push([n.node, '-', '-', '-', '-', `ERROR ${n.error ?? ''}`.trim(), '-', '-', '-']);
      continue;
    }
    for (const b of n.bgp) {
      const server = isServerSession(b);
      if (server && b.state !== 'Established') serversWaiting++;
      bgpRows.push([
        n.node,
        b.peer,
        b.description ?? '',
        server ? 'server' : b.peerRole === 'router' ? 'router' : '?',
        String(b.remoteAs),
        b.state,
        b.state === 'Established' ? duration(b.uptimeMs) : '-',
        String(b.prefixesReceived),
        String(b.prefixesSent),
      ]);
    }
  }
  if (bgpRows.length > 1) out.push(table(bgpRows), '');
  if (serversWaiting > 0) {
    out.push(
      `${serversWaiting} router↔server session(s) not Established: they come up once tabby runs on the servers`,
      '',
    );
  }
  const down = s.processes.filter((p) => !p.running);
  out.push(
    down.length === 0
      ? `daemons: ${s.processes.length} running`
      : `daemons: ${s.processes.length - down.length}/${s.processes.length} running; stopped: ${down.map((p) => p.name).join(', ')}`,
  );
  return out.join('\n');
}
