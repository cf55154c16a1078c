// Turns a validated topology into the list of things the netns runner creates. Pure.
import type { IpCommand, VethEnd } from '../../kernel/index.js';
import type { LabRole, Topology } from './types.js';

export interface NetnsPlan {
  node: string;
  netns: string;
  role: LabRole;
  sysctls: Record<string, string>;
  /** Addresses, links up and default routes, applied in one `ip -batch`. */
  commands: IpCommand[];
}

export interface VethPlan {
  a: VethEnd;
  b: VethEnd;
  mtu?: number;
}

export interface LabPlan {
  name: string;
  namespaces: NetnsPlan[];
  veths: VethPlan[];
  /** Nodes that run FRR. */
  routers: { node: string; netns: string }[];
}

export const netnsName = (lab: string, node: string): string => `${lab}-${node}`;

/** Every lab node forwards (routers route the underlay, servers will route their pods). */
const SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv6.conf.all.forwarding': '1',
  // No duplicate address detection: lab addresses are unique by validation and must work at once.
  'net.ipv6.conf.all.accept_dad': '0',
  'net.ipv6.conf.default.accept_dad': '0',
};

export function planLab(t: Topology): LabPlan {
  const namespaces: NetnsPlan[] = t.nodes.map((n) => {
    const commands: IpCommand[] = [];
    for (const lo of n.loopbacks) commands.push({ op: 'addr-add', dev: 'lo', ...lo });
    for (const iface of n.interfaces) {
      for (const a of iface.addresses) commands.push({ op: 'addr-add', dev: iface.name, ...a });
      commands.push({ op: 'link-up', dev: iface.name });
    }
    if (n.gateway4) commands.push({ op: 'route-add', family: 4, dst: 'default', via: n.gateway4 });
    if (n.gateway6) commands.push({ op: 'route-add', family: 6, dst: 'default', via: n.gateway6 });
    return {
      node: n.name,
      netns: netnsName(t.name, n.name),
      role: n.role,
      sysctls: { ...SYSCTLS },
      commands,
    };
  });
  const veths: VethPlan[] = t.links.map((l) => ({
    a: { netns: netnsName(t.name, l.a.node), name: l.a.interface },
    b: { netns: netnsName(t.name, l.b.node), name: l.b.interface },
    mtu: l.mtu,
  }));
  const routers = t.nodes
    .filter((n) => n.role === 'router')
    .map((n) => ({ node: n.name, netns: netnsName(t.name, n.name) }));
  return { name: t.name, namespaces, veths, routers };
}
