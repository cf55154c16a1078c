// `lab status`: what is there now — namespaces, links, daemons, and routers' BGP sessions.
import {
  type AddrInfo,
  isRunning,
  type LinkInfo,
  listAddresses,
  listLinks,
  listNetns,
} from '../kernel/index.js';
import { LabError } from './errors.js';
import { type BgpSession, bgpSessions } from './frr.js';
import { type LabState, readState } from './state.js';

export interface InterfaceStatus {
  name: string;
  state: string;
  addresses: string[];
}

export interface NodeStatus {
  node: string;
  netns: string;
  role: string;
  present: boolean;
  interfaces: InterfaceStatus[];
  /** Routers only; undefined when FRR could not be asked. */
  bgp?: BgpSession[];
  error?: string;
}

export interface LinkStatus {
  a: string;
  b: string;
  /** Operational state of each end (`UP`, `DOWN`, `MISSING`...). */
  stateA: string;
  stateB: string;
}

export interface LabStatus {
  name: string;
  phase: LabState['phase'];
  createdAt: string;
  nodes: NodeStatus[];
  links: LinkStatus[];
  processes: { name: string; pid: number; running: boolean }[];
}

export async function labStatus(name: string): Promise<LabStatus> {
  const state = readState(name);
  if (!state) throw new LabError(`lab "${name}" is not up (no state file)`);
  const present = new Set(await listNetns());
  const nodes = await Promise.all(
    state.nodes.map(async (n): Promise<NodeStatus> => {
      const s: NodeStatus = {
        node: n.node,
        netns: n.netns,
        role: n.role,
        present: present.has(n.netns),
        interfaces: [],
      };
      if (!s.present) return s;
      try {
        const [links, addrs] = await Promise.all([listLinks(n.netns), listAddresses(n.netns)]);
        s.interfaces = interfaces(links, addrs);
        if (n.role === 'router' && n.runDir) s.bgp = await bgpSessions(n.runDir);
      } catch (e) {
        s.error = (e as Error).message;
      }
      return s;
    }),
  );
  const endState = (end: string): string => {
    const [node, iface] = end.split(':');
    return nodes.find((n) => n.node === node)?.interfaces.find((i) => i.name === iface)?.state ?? 'MISSING';
  };
  return {
    name,
    phase: state.phase,
    createdAt: state.createdAt,
    nodes,
    links: (state.links ?? []).map((l) => ({ ...l, stateA: endState(l.a), stateB: endState(l.b) })),
    processes: state.processes.map((p) => ({ name: p.name ?? '?', pid: p.pid, running: isRunning(p) })),
  };
}

function interfaces(links: LinkInfo[], addrs: AddrInfo[]): InterfaceStatus[] {
  return links.map((l) => ({
    name: l.ifname,
    state: l.operstate,
    addresses: (addrs.find((a) => a.ifname === l.ifname)?.addr_info ?? [])
      .filter((a) => a.scope !== 'link' && a.scope !== 'host')
      .map((a) => `${a.local}/${a.prefixlen}`),
  }));
}

/**
 * Resolves when every router's every BGP session is Established; rejects after `timeoutMs`.
 * Polls only the routers' BGP state; the full status is read once, at the end.
 */
export async function waitForBgp(name: string, timeoutMs: number): Promise<LabStatus> {
  const state = readState(name);
  if (!state) throw new LabError(`lab "${name}" is not up (no state file)`);
  const routers = state.nodes.filter((n) => n.role === 'router');
  const deadline = Date.now() + timeoutMs;
  let pending: string[] = [];
  while (Date.now() < deadline) {
    const views = await Promise.all(
      routers.map(async (n): Promise<Pick<NodeStatus, 'node' | 'role' | 'bgp' | 'error'>> => {
        try {
          return { node: n.node, role: n.role, bgp: n.runDir ? await bgpSessions(n.runDir) : undefined };
        } catch (e) {
          return { node: n.node, role: n.role, error: (e as Error).message };
        }
      }),
    );
    pending = notEstablished({ nodes: views });
    if (pending.length === 0) return labStatus(name);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new LabError(`BGP sessions not Established after ${timeoutMs / 1000} s: ${pending.join(', ')}`);
}

export function notEstablished(s: {
  nodes: Pick<NodeStatus, 'node' | 'role' | 'bgp' | 'error'>[];
}): string[] {
  const out: string[] = [];
  for (const n of s.nodes) {
    if (n.role !== 'router') continue;
    if (!n.bgp) out.push(`${n.node} (${n.error ?? 'no answer'})`);
    else for (const b of n.bgp) if (b.state !== 'Established') out.push(`${n.node}→${b.peer} ${b.state}`);
  }
  return out;
}
