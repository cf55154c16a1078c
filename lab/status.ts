// `lab status`: what is there now — namespaces, links, daemons, and routers' BGP sessions (from
// FRR's JSON or BIRD's protocol list), each marked router↔router or router↔server.
import {
  type AddrInfo,
  isRunning,
  type LinkInfo,
  listAddresses,
  listLinks,
  listNetns,
} from '../kernel/index.js';
import { birdSessions } from './bird.js';
import { LabError } from './errors.js';
import { type BgpSession, bgpSessions } from './frr.js';
import { type LabNodeState, type LabState, readState } from './state.js';

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
  /** Routers: the BGP daemon. */
  daemon?: string;
  /** Routers only; undefined when the daemon could not be asked. */
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
        ...(n.role === 'router' && { daemon: n.daemon ?? 'frr' }),
      };
      if (!s.present) return s;
      try {
        const [links, addrs] = await Promise.all([listLinks(n.netns), listAddresses(n.netns)]);
        s.interfaces = interfaces(links, addrs);
        if (n.role === 'router' && n.runDir) s.bgp = await routerSessions(n, state);
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

/** A router's sessions from its own daemon, each marked with the peer's lab node and role. */
export async function routerSessions(n: LabNodeState, state: LabState): Promise<BgpSession[]> {
  if (!n.runDir) return [];
  const sessions = n.daemon === 'bird' ? await birdSessions(n.runDir) : await bgpSessions(n.runDir);
  return sessions.map((b) => {
    const planned = n.peers?.find((p) => p.address === b.peer);
    // States written before peers were recorded: the description names the peer node.
    const node = planned?.node ?? b.description;
    const role = planned?.role ?? state.nodes.find((x) => x.node === node)?.role;
    return { ...b, ...(node && { peerNode: node }), ...(role && { peerRole: role }) };
  });
}

export interface WaitOptions {
  /** Also wait for router↔server sessions (they come up only once tabby runs on the servers). */
  servers?: boolean;
}

/**
 * Resolves when every router's router↔router BGP sessions (with `servers`, all of them) are
 * Established; rejects after `timeoutMs`. Polls only the routers' BGP state; the full status is
 * read once, at the end.
 */
export async function waitForBgp(
  name: string,
  timeoutMs: number,
  opts: WaitOptions = {},
): Promise<LabStatus> {
  const state = readState(name);
  if (!state) throw new LabError(`lab "${name}" is not up (no state file)`);
  const routers = state.nodes.filter((n) => n.role === 'router');
  const deadline = Date.now() + timeoutMs;
  let pending: string[] = [];
  while (Date.now() < deadline) {
    const views = await Promise.all(
      routers.map(async (n): Promise<Pick<NodeStatus, 'node' | 'role' | 'bgp' | 'error'>> => {
        try {
          return { node: n.node, role: n.role, bgp: await routerSessions(n, state) };
        } catch (e) {
          return { node: n.node, role: n.role, error: (e as Error).message };
        }
      }),
    );
    pending = notEstablished({ nodes: views }, opts);
    if (pending.length === 0) return labStatus(name);
    await new Promise((r) => setTimeout(r, 500));
  }
  const which = opts.servers ? 'BGP sessions' : 'router↔router BGP sessions';
  throw new LabError(`${which} not Established after ${timeoutMs / 1000} s: ${pending.join(', ')}`);
}

/** A session toward a server (known from the lab's record): Established only once tabby runs there. */
export const isServerSession = (b: Pick<BgpSession, 'peerRole'>): boolean => b.peerRole === 'node';

/**
 * What is not Established: routers that did not answer, and their sessions — router↔router
 * ones only, unless `servers` (sessions of unknown peers count as router↔router).
 */
export function notEstablished(
  s: { nodes: Pick<NodeStatus, 'node' | 'role' | 'bgp' | 'error'>[] },
  opts: WaitOptions = {},
): string[] {
  const out: string[] = [];
  for (const n of s.nodes) {
    if (n.role !== 'router') continue;
    if (!n.bgp) out.push(`${n.node} (${n.error ?? 'no answer'})`);
    else
      for (const b of n.bgp) {
        if (b.state === 'Established' || (isServerSession(b) && !opts.servers)) continue;
        out.push(`${n.node}→${b.peer} ${b.state}`);
      }
  }
  return out;
}
