// Turns a validated topology into the list of things the netns runner creates. Pure.
import type { IpCommand, VethEnd } from '../../kernel/index.js';
import { type BgpNeighbor, bgpNeighbors } from './neighbors.js';
import { type BgpDaemon, BRIDGE_DEVICE, type LabRole, type Topology } from './types.js';

export interface NetnsPlan {
  node: string;
  netns: string;
  role: LabRole;
  sysctls: Record<string, string>;
  /** Addresses, links up and default routes (bridges: the bridge and its ports), in one `ip -batch`. */
  commands: IpCommand[];
}

export interface RouterPlan {
  node: string;
  netns: string;
  daemon: BgpDaemon;
  /** Its BGP sessions (also recorded in the lab state, so status can tell routers from servers). */
  neighbors: BgpNeighbor[];
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
  /** Nodes that run a BGP daemon (FRR or BIRD). */
  routers: RouterPlan[];
}

export const netnsName = (lab: string, node: string): string => `${lab}-${node}`;

/** Every lab node forwards (routers route the underlay, servers route their pods). */
const SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv6.conf.all.forwarding': '1',
  // No duplicate address detection: lab addresses are unique by validation and must work at once.
  'net.ipv6.conf.all.accept_dad': '0',
  'net.ipv6.conf.default.accept_dad': '0',
};

/** A bridge's namespace only switches frames: no IPv6 on its ports. */
const BRIDGE_SYSCTLS: Record<string, string> = {
  'net.ipv6.conf.all.disable_ipv6': '1',
  'net.ipv6.conf.default.disable_ipv6': '1',
};

export function planLab(t: Topology): LabPlan {
  const namespaces: NetnsPlan[] = t.nodes.map((n) => {
    const netns = netnsName(t.name, n.name);
    if (n.role === 'bridge') {
      // A LAN: one bridge, every link end a port, no addresses (and no IPv6 link-locals).
      const commands: IpCommand[] = [{ op: 'bridge-add', name: BRIDGE_DEVICE }];
      for (const iface of n.interfaces) {
        commands.push({ op: 'link-master', dev: iface.name, master: BRIDGE_DEVICE });
        commands.push({ op: 'link-up', dev: iface.name });
      }
      commands.push({ op: 'link-up', dev: BRIDGE_DEVICE });
      return { node: n.name, netns, role: n.role, sysctls: { ...BRIDGE_SYSCTLS }, commands };
    }
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
      netns,
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
    .map((n) => ({
      node: n.name,
      netns: netnsName(t.name, n.name),
      daemon: n.daemon ?? 'frr',
      neighbors: bgpNeighbors(t, n),
    }));
  return { name: t.name, namespaces, veths, routers };
}
