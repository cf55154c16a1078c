// FRR configuration for lab routers, rendered from the topology. Pure.
//   - the netns runner starts zebra and bgpd with separate files (addresses are set by the
//     runner through kernel/, so bgpd.conf holds only BGP);
//   - `lab render` writes one integrated frr.conf (interfaces + BGP) for real containerlab.
import { formatInterfaceAddress } from '../../common/addr.js';
import { bgpNeighbors } from './neighbors.js';
import type { LabNode, Topology } from './types.js';

export interface FrrRenderOptions {
  /** `log file PATH` (runner) or `log stdout` (containers). */
  logFile?: string;
}

/** BGP timers for lab sessions: fast keepalive/hold and a 5 s connect retry. */
export const LAB_BGP_TIMERS = { keepalive: 3, hold: 9, connect: 5 } as const;

function header(node: LabNode, opts: FrrRenderOptions): string[] {
  return [
    'frr defaults datacenter',
    `hostname ${node.name}`,
    opts.logFile ? `log file ${opts.logFile} informational` : 'log stdout informational',
    '!',
  ];
}

export function renderZebraConf(node: LabNode, opts: FrrRenderOptions = {}): string {
  return `${header(node, opts).join('\n')}\n`;
}

export function renderBgpdConf(topology: Topology, node: LabNode, opts: FrrRenderOptions = {}): string {
  return `${[...header(node, opts), ...bgpSection(topology, node)].join('\n')}\n`;
}

/** One frr.conf for a containerized FRR (zebra applies the interface addresses). */
export function renderIntegratedFrrConf(topology: Topology, node: LabNode): string {
  const lines = [...header(node, {}), 'ip forwarding', 'ipv6 forwarding', '!'];
  if (node.loopbacks.length > 0) {
    lines.push('interface lo');
    for (const lo of node.loopbacks)
      lines.push(` ${lo.family === 4 ? 'ip' : 'ipv6'} address ${formatInterfaceAddress(lo)}`);
    lines.push('exit', '!');
  }
  for (const iface of node.interfaces) {
    lines.push(`interface ${iface.name}`);
    for (const a of iface.addresses)
      lines.push(` ${a.family === 4 ? 'ip' : 'ipv6'} address ${formatInterfaceAddress(a)}`);
    lines.push('exit', '!');
  }
  lines.push(...bgpSection(topology, node));
  return `${lines.join('\n')}\n`;
}

/** The `daemons` file a containerized FRR reads to know what to start. */
export const renderFrrDaemons = (): string =>
  [
    'zebra=yes',
    'bgpd=yes',
    'vtysh_enable=yes',
    'zebra_options="  -A 127.0.0.1 -s 90000000"',
    'bgpd_options="   -A 127.0.0.1"',
    '',
  ].join('\n');

function bgpSection(topology: Topology, node: LabNode): string[] {
  if (!node.asn) return [];
  const neighbors = bgpNeighbors(topology, node);
  const t = LAB_BGP_TIMERS;
  const lines = [
    `router bgp ${node.asn}`,
    ...(node.routerId ? [` bgp router-id ${node.routerId}`] : []),
    ' no bgp default ipv4-unicast',
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' bgp bestpath as-path multipath-relax',
  ];
  for (const n of neighbors) {
    lines.push(
      ` neighbor ${n.address} remote-as ${n.remoteAs}`,
      ` neighbor ${n.address} description ${n.peerNode}`,
      ` neighbor ${n.address} timers ${t.keepalive} ${t.hold}`,
      ` neighbor ${n.address} timers connect ${t.connect}`,
    );
    if (n.password) lines.push(` neighbor ${n.address} password ${n.password}`);
  }
  for (const fam of [4, 6] as const) {
    const inFamily = neighbors.filter((n) => n.family === fam);
    const hasAddresses =
      node.loopbacks.some((l) => l.family === fam) ||
      node.interfaces.some((i) => i.addresses.some((a) => a.family === fam));
    if (inFamily.length === 0 && !hasAddresses) continue;
    lines.push(
      ' !',
      ` address-family ${fam === 4 ? 'ipv4' : 'ipv6'} unicast`,
      '  redistribute connected',
      '  maximum-paths 16',
    );
    for (const n of inFamily) lines.push(`  neighbor ${n.address} activate`);
    lines.push(' exit-address-family');
  }
  lines.push('exit', '!');
  return lines;
}
