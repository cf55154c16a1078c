// Pod wiring in the kernel: the veth pair between the agent's namespace (the node) and a pod's
// namespace, the pod side's addresses and routes, and reading them back for CHECK. Callers
// pass validated values; every command is a typed IpCommand whose renderer checks each token,
// so nothing can inject a line.
import type { IpFamily } from '../common/addr.js';
import { isKernelErrno } from './errors.js';
import { ip, ipBatch, ipInPath, ipJson, ipJsonInPath } from './ip.js';
import { type IpCommand, ipToken, renderIpBatch } from './ip-commands.js';
import { type AddrInfo, type LinkInfo, listLinks } from './links.js';

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

/**
 * Creates the pair with the pod end born inside the pod's namespace (never visible on the
 * host under its final name), names and MACs fixed, the host end aliased and up.
 */
export async function createPodVeth(v: PodVethSpec): Promise<void> {
  const cmds: IpCommand[] = [
    {
      op: 'veth-add',
      name: v.host,
      mac: v.hostMac,
      mtu: v.mtu,
      peer: { name: v.podIfname, mac: v.podMac, netns: v.podNetns },
    },
    { op: 'link-alias', dev: v.host, alias: v.alias },
  ];
  if (v.up !== false) cmds.push({ op: 'link-up', dev: v.host });
  await ipBatch(undefined, cmds);
}

/** Sets a link of the agent's namespace up. */
export async function setLinkUp(name: string): Promise<void> {
  await ipBatch(undefined, [{ op: 'link-up', dev: name }]);
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
  const cmds: IpCommand[] = [{ op: 'link-up', dev }];
  for (const a of addresses) {
    const prefixLength = a.family === 4 ? 32 : 128;
    cmds.push({
      op: 'addr-add',
      dev,
      family: a.family,
      address: a.address,
      prefixLength,
      nodad: a.family === 6,
    });
  }
  if (addresses.some((a) => a.family === 4)) {
    cmds.push({ op: 'route-add', family: 4, dst: `${gateways[4]}/32`, dev, scope: 'link' });
    cmds.push({ op: 'route-add', family: 4, dst: 'default', via: gateways[4], dev });
  }
  if (addresses.some((a) => a.family === 6)) {
    cmds.push({ op: 'route-add', family: 6, dst: 'default', via: gateways[6], dev });
  }
  await ipInPath(podNetns, ['-batch', '-'], renderIpBatch(cmds));
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

/** A link of the agent's namespace. */
export type HostLink = LinkInfo;

/** Links of the agent's namespace whose name starts with `prefix` (one process for all). */
export async function listHostLinks(prefix: string): Promise<HostLink[]> {
  return (await listLinks(undefined)).filter((l) => l.ifname.startsWith(prefix));
}

/** One link of the agent's namespace, or undefined. */
export async function hostLink(name: string): Promise<HostLink | undefined> {
  return (await listLinks(undefined, name))[0];
}

export interface PodInterfaceState {
  link?: { ifname: string; mtu: number; flags: string[]; address?: string };
  addresses: { family: IpFamily; address: string; prefixLength: number }[];
  routes: { dst: string; gateway?: string; dev?: string; scope?: string }[];
}

type RouteJson = PodInterfaceState['routes'][number];

/** What a pod's interface looks like from inside its namespace (for CHECK). */
export async function readPodInterface(podNetns: string, ifname: string): Promise<PodInterfaceState> {
  const dev = ipToken(ifname, 'device');
  const [addrs, route4, route6] = await Promise.all([
    ipJsonInPath<(LinkInfo & AddrInfo)[]>(podNetns, ['address', 'show', 'dev', dev]).catch((e: unknown) => {
      if (isKernelErrno(e, 'ENOENT')) return [];
      throw e;
    }),
    ipJsonInPath<RouteJson[]>(podNetns, ['-4', 'route', 'show', 'table', 'main']),
    ipJsonInPath<RouteJson[]>(podNetns, ['-6', 'route', 'show', 'table', 'main']),
  ]);
  const link = addrs[0];
  return {
    link: link && { ifname: link.ifname, mtu: link.mtu, flags: link.flags, address: link.address },
    addresses: (link?.addr_info ?? [])
      .filter((a) => a.scope !== 'link')
      .map((a) => ({ family: a.family === 'inet' ? 4 : 6, address: a.local, prefixLength: a.prefixlen })),
    routes: [...route4, ...route6],
  };
}

/** MTU of the device the default route leaves through (the underlay), if there is one. */
export async function underlayMtu(): Promise<number | undefined> {
  const routes = await ipJson<{ dev?: string }[]>(undefined, ['route', 'show', 'default']);
  const dev = routes.find((r) => r.dev)?.dev;
  if (!dev) return undefined;
  return (await hostLink(dev))?.mtu;
}

/**
 * The node's address on the underlay: the first global address of `family` on the device the
 * default route of that family leaves through (what the node peers from over BGP), if any.
 */
export async function underlayAddress(family: IpFamily): Promise<string | undefined> {
  const routes = await ipJson<{ dev?: string }[]>(undefined, [`-${family}`, 'route', 'show', 'default']);
  const dev = routes.find((r) => r.dev)?.dev;
  if (!dev) return undefined;
  const addrs = await ipJson<AddrInfo[]>(undefined, [
    `-${family}`,
    'address',
    'show',
    'dev',
    ipToken(dev, 'device'),
  ]);
  const inet = family === 4 ? 'inet' : 'inet6';
  return addrs[0]?.addr_info.find((a) => a.family === inet && a.scope === 'global')?.local;
}
