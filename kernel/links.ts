// Links: veth pairs created directly between two namespaces (never in the root namespace).
import { isKernelErrno } from './errors.js';
import { ip, ipJson } from './ip.js';
import { ipToken } from './ip-commands.js';

export interface VethEnd {
  netns: string;
  name: string;
}

export async function createVethPair(a: VethEnd, b: VethEnd, mtu?: number): Promise<void> {
  const args = ['link', 'add', a.name];
  if (mtu) args.push('mtu', String(mtu));
  args.push('type', 'veth', 'peer', 'name', b.name, 'netns', b.netns);
  if (mtu) args.push('mtu', String(mtu));
  await ip(a.netns, args);
}

export interface LinkInfo {
  ifname: string;
  /** IFLA_IFALIAS, when set. */
  ifalias?: string;
  operstate: string;
  mtu: number;
  /** UP, LOWER_UP, NO-CARRIER, … */
  flags: string[];
  address?: string;
  link_netnsid?: number;
}

export interface AddrInfo {
  ifname: string;
  addr_info: { family: 'inet' | 'inet6'; local: string; prefixlen: number; scope: string }[];
}

/**
 * Links of a named namespace, or of this process's own namespace when `netns` is undefined; with
 * `dev`, only that one (an empty list when it does not exist), so one lookup is not a full dump.
 */
export async function listLinks(netns: string | undefined, dev?: string): Promise<LinkInfo[]> {
  if (dev === undefined) return ipJson<LinkInfo[]>(netns, ['link', 'show']);
  try {
    return await ipJson<LinkInfo[]>(netns, ['link', 'show', 'dev', ipToken(dev, 'device')]);
  } catch (e) {
    if (isKernelErrno(e, 'ENOENT')) return [];
    throw e;
  }
}
export const listAddresses = (netns: string): Promise<AddrInfo[]> =>
  ipJson<AddrInfo[]>(netns, ['address', 'show']);
