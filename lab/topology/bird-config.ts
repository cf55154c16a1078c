// BIRD 2 configuration for a lab router (`tabby.dev/bgp-daemon: bird`), rendered from the
// topology. Pure. The same sessions as FRR's (frr-config.ts): eBGP per directly reachable peer
// with an AS, 3 s/9 s timers, 5 s connect retry, optional TCP MD5; connected routes and the
// loopback announced (`protocol direct`), learned routes installed into the namespace's FIB
// with ECMP (`protocol kernel`, `merge paths on`).
import { LAB_BGP_TIMERS } from './frr-config.js';
import { type BgpNeighbor, bgpNeighbors } from './neighbors.js';
import type { LabNode, Topology } from './types.js';

export interface BirdRenderOptions {
  /** `log "PATH" all` (runner) or `log stderr all` (containers). */
  logFile?: string;
}

/** BIRD protocol name of a session: a symbol (letters, digits, `_`), unique per interface and family. */
export function birdProtocolName(
  n: Pick<BgpNeighbor, 'peerNode' | 'interface' | 'family' | 'address'>,
): string {
  const sym = (s: string) => s.replace(/[^A-Za-z0-9]/g, '_');
  return `bgp_${sym(n.peerNode)}_${sym(n.interface)}${n.family === 6 ? '_v6' : ''}`;
}

const quoted = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;

export function renderBirdConf(topology: Topology, node: LabNode, opts: BirdRenderOptions = {}): string {
  if (!node.asn || !node.routerId) throw new Error(`internal: router ${node.name} has no AS or router id`);
  const neighbors = bgpNeighbors(topology, node);
  const families = new Set<4 | 6>([
    ...neighbors.map((n) => n.family),
    ...node.loopbacks.map((l) => l.family),
    ...node.interfaces.flatMap((i) => i.addresses.map((a) => a.family)),
  ]);
  const channels = ([4, 6] as const).filter((f) => families.has(f)).map((f) => `ipv${f}`);
  const t = LAB_BGP_TIMERS;
  const lines = [
    `# ${node.name}: rendered by tabby's lab from the topology`,
    opts.logFile ? `log ${quoted(opts.logFile)} all;` : 'log stderr all;',
    `router id ${node.routerId};`,
    'timeformat protocol iso long;',
    '',
    '# interfaces (needed by every other protocol)',
    'protocol device {',
    '  scan time 10;',
    '}',
    '',
    '# connected subnets and the loopback, announced to every peer',
    'protocol direct {',
    ...channels.map((c) => `  ${c};`),
    '}',
  ];
  for (const c of channels) {
    lines.push(
      '',
      `# learned routes into the FIB; equal paths as one multipath route`,
      `protocol kernel kernel_${c} {`,
      `  ${c} {`,
      '    import none;',
      '    export where source = RTS_BGP;',
      '  };',
      '  merge paths on;',
      '}',
    );
  }
  for (const n of neighbors) {
    const c = `ipv${n.family}`;
    lines.push(
      '',
      `protocol bgp ${birdProtocolName(n)} {`,
      `  description ${quoted(n.peerNode)};`,
      `  local ${n.localAddress} as ${node.asn};`,
      `  neighbor ${n.address} as ${n.remoteAs};`,
      '  direct;',
      `  hold time ${t.hold};`,
      `  keepalive time ${t.keepalive};`,
      `  connect retry time ${t.connect};`,
      ...(n.password ? [`  password ${quoted(n.password)};`] : []),
      `  ${c} {`,
      '    import all;',
      '    export all;',
      '  };',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}
