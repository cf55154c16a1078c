// Pod wiring in the kernel: the veth pair between the agent's namespace (the node) and a pod's
// namespace, the pod side's addresses and routes, and reading them back for CHECK. Callers
// pass validated values; every token still goes through ipToken so nothing can inject a line.
import type { IpFamily } from '../common/addr.js';
import { isKernelErrno } from './errors.js';
import { ip, ipInPath, ipJson } from './ip.js';
import { ipToken } from './ip-commands.js';

export interface PodVethSpec {
  /** Host-side name (in the agent's namespace). */
  host: string;
  hostMac: string;
  /** Path of the pod's network namespace. */
  podNetns: string;
  /** Pod-side name (CNI_IFNAME). */
  podIfname: string;
  podMac: string;
  mtu: number;
  /** Stored on the host side (IFLA_IFALIAS): who the veth belongs to, read back on restart. */
  alias: string;
  /** Bring the host end up at once (default); false leaves it down for sysctls that must come first. */
  up?: boolean;
}

/** The alias may hold `|` and `,` separators besides the usual token characters. */
const ALIAS = /^[A-Za-z0-9_.:/@|,-]{1,255}$/;

/**
 * Creates the pair with the pod end born inside the pod's namespace (never visible on the
 * host under its final name), names and MACs fixed, the host end aliased and up.
 */
export async function createPodVeth(v: PodVethSpec): Promise<void> {
  if (!ALIAS.test(v.alias)) throw new Error(`invalid veth alias ${JSON.stringify(v.alias)}`);
  const host = ipToken(v.host, 'device');
  const mtu = ipToken(v.mtu, 'mtu');
  const lines = [
    `link add dev ${host} mtu ${mtu} address ${ipToken(v.hostMac, 'mac')} type veth peer name ${ipToken(v.podIfname, 'device')} mtu ${mtu} address ${ipToken(v.podMac, 'mac')} netns ${ipToken(v.podNetns, 'netns path')}`,
    `link set dev ${host} alias ${v.alias}`,
  ];
  if (v.up !== false) lines.push(`link set dev ${host} up`);
  await ip(undefined, ['-batch', '-'], `${lines.join('\n')}\n`);
}

/** Sets a link of the agent's namespace up. */
export async function setLinkUp(name: string): Promise<void> {
  await ip(undefined, ['link', 'set', 'dev', ipToken(name, 'device'), 'up']);
}

/** Rewrites the alias of a host-side link (once the pod's addresses are known). */
export async function setLinkAlias(name: string, alias: string): Promise<void> {
  if (!ALIAS.test(alias)) throw new Error(`invalid veth alias ${JSON.stringify(alias)}`);
  await ip(undefined, ['link', 'set', 'dev', ipToken(name, 'device'), 'alias', alias]);
}

export interface PodAddress {
  family: IpFamily;
  /** Host address without prefix; configured as /32 or /128. */
  address: string;
}

/** Addresses, link up, the on-link gateway route and the default route via it, in one process. */
export async function configurePodInterface(
  podNetns: string,
  ifname: string,
  addresses: readonly PodAddress[],
  gateways: { 4: string; 6: string },
): Promise<void> {
  const dev = ipToken(ifname, 'device');
  const lines = [`link set dev ${dev} up`];
  for (const a of addresses) {
    const bits = a.family === 4 ? 32 : 128;
    lines.push(
      `address add ${ipToken(a.address, 'address')}/${bits} dev ${dev}${a.family === 6 ? ' nodad' : ''}`,
    );
  }
  if (addresses.some((a) => a.family === 4)) {
    lines.push(`route add ${ipToken(gateways[4], 'gateway')}/32 dev ${dev} scope link`);
    lines.push(`route add 0.0.0.0/0 via ${ipToken(gateways[4], 'gateway')} dev ${dev}`);
  }
  if (addresses.some((a) => a.family === 6)) {
    lines.push(`route add ::/0 via ${ipToken(gateways[6], 'gateway')} dev ${dev}`);
  }
  await ipInPath(podNetns, ['-batch', '-'], `${lines.join('\n')}\n`);
}

/** Deletes a link (its peer goes with it); false when there was none. */
export async function deleteLink(name: string): Promise<boolean> {
  try {
    await ip(undefined, ['link', 'del', 'dev', ipToken(name, 'device')]);
    return true;
  } catch (e) {
    if (isKernelErrno(e, 'ENOENT')) return false;
    throw e;
  }
}

export interface HostLink {
  ifname: string;
  ifalias?: string;
  mtu: number;
  operstate: string;
  flags: string[];
  address?: string;
}

/** Links of the agent's namespace whose name starts with `prefix` (one process for all). */
export async function listHostLinks(prefix: string): Promise<HostLink[]> {
  const links = await ipJson<HostLink[]>(undefined, ['link', 'show']);
  return links.filter((l) => l.ifname.startsWith(prefix));
}

/** One link of the agent's namespace, or undefined. */
export async function hostLink(name: string): Promise<HostLink | undefined> {
  try {
    return (await ipJson<HostLink[]>(undefined, ['link', 'show', 'dev', ipToken(name, 'device')]))[0];
  } catch (e) {
    if (isKernelErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

export interface PodInterfaceState {
  link?: { ifname: string; mtu: number; flags: string[]; address?: string };
  addresses: { family: IpFamily; address: string; prefixLength: number }[];
  routes: { dst: string; gateway?: string; dev?: string; scope?: string }[];
}

interface AddrJson {
  ifname: string;
  mtu: number;
  flags: string[];
  address?: string;
  addr_info: { family: 'inet' | 'inet6'; local: string; prefixlen: number; scope: string }[];
}

/** What a pod's interface looks like from inside its namespace (for CHECK). */
export async function readPodInterface(podNetns: string, ifname: string): Promise<PodInterfaceState> {
  const dev = ipToken(ifname, 'device');
  const [addrOut, route4, route6] = await Promise.all([
    ipInPath(podNetns, ['-json', 'address', 'show', 'dev', dev]).catch((e: unknown) => {
      if (isKernelErrno(e, 'ENOENT')) return { stdout: '[]', stderr: '' };
      throw e;
    }),
    ipInPath(podNetns, ['-json', '-4', 'route', 'show', 'table', 'main']),
    ipInPath(podNetns, ['-json', '-6', 'route', 'show', 'table', 'main']),
  ]);
  const parse = <T>(s: string): T[] => (s.trim() ? (JSON.parse(s) as T[]) : []);
  const link = parse<AddrJson>(addrOut.stdout)[0];
  type RouteJson = { dst: string; gateway?: string; dev?: string; scope?: string };
  return {
    link: link && { ifname: link.ifname, mtu: link.mtu, flags: link.flags, address: link.address },
    addresses: (link?.addr_info ?? [])
      .filter((a) => a.scope !== 'link')
      .map((a) => ({ family: a.family === 'inet' ? 4 : 6, address: a.local, prefixLength: a.prefixlen })),
    routes: [...parse<RouteJson>(route4.stdout), ...parse<RouteJson>(route6.stdout)],
  };
}

/** MTU of the device the default route leaves through (the underlay), if there is one. */
export async function underlayMtu(): Promise<number | undefined> {
  const routes = await ipJson<{ dev?: string }[]>(undefined, ['route', 'show', 'default']);
  const dev = routes.find((r) => r.dev)?.dev;
  if (!dev) return undefined;
  return (await hostLink(dev))?.mtu;
}
