// Checks on a request the plugin already validated: the agent never trusts its socket peer's
// shape. A bad field is reported with the plugin-side name of what carried it, before anything
// is allocated or created.
import { type AgentRequest, CNI_ERROR, type TabbyNetConf } from '../../cni/protocol.js';
import { AgentError } from '../errors.js';

export interface Attachment {
  containerId: string;
  ifname: string;
  network: string;
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** The spec's rules (≤ 15, no '/', ':' or whitespace), narrowed to what `ip` takes as a token. */
const IFNAME = /^[A-Za-z0-9_.@-]{1,15}$/;
/** An absolute path of characters `ip`/nsenter take as one token. */
const NETNS_PATH = /^\/[A-Za-z0-9_.:/@-]+$/;

const envError = (field: string, msg: string) => new AgentError(CNI_ERROR.invalidEnv, `${field}: ${msg}`);
const confError = (field: string, msg: string) => new AgentError(CNI_ERROR.invalidConfig, `${field}: ${msg}`);

export function networkOf(req: AgentRequest): string {
  const network = req.conf?.network;
  if (!network || !CONTAINER_ID.test(network))
    throw confError('name', `invalid network name ${JSON.stringify(network)}`);
  return network;
}

export function attachmentOf(req: AgentRequest): Attachment {
  const { containerId, ifname } = req;
  if (!containerId || !CONTAINER_ID.test(containerId)) {
    throw envError('CNI_CONTAINERID', `invalid or missing (${JSON.stringify(containerId)})`);
  }
  if (!ifname || !IFNAME.test(ifname) || ifname === '.' || ifname === '..') {
    throw envError(
      'CNI_IFNAME',
      `invalid or missing (${JSON.stringify(ifname)}): 1–15 of letters, digits, _ . @ -`,
    );
  }
  return { containerId, ifname, network: networkOf(req) };
}

/** CNI_NETNS as a path the kernel tools take; required for ADD and CHECK. */
export function netnsOf(req: AgentRequest, verb: string): string {
  const netns = req.netns;
  if (!netns || !NETNS_PATH.test(netns) || netns.includes('..')) {
    throw envError('CNI_NETNS', `an absolute path is required for ${verb}, got ${JSON.stringify(netns)}`);
  }
  return netns;
}

/** The IPAM part of the network config, shape-checked. */
export function ipamOf(req: AgentRequest): TabbyNetConf['ipam'] {
  const ipam = req.conf?.ipam;
  if (!ipam || typeof ipam !== 'object') throw confError('ipam', 'missing');
  if (typeof ipam.assignIpv4 !== 'boolean') throw confError('ipam.assignIpv4', 'must be a boolean');
  if (typeof ipam.assignIpv6 !== 'boolean') throw confError('ipam.assignIpv6', 'must be a boolean');
  if (!ipam.assignIpv4 && !ipam.assignIpv6)
    throw confError('ipam', 'assignIpv4 and assignIpv6 are both false');
  if (!Array.isArray(ipam.pools) || ipam.pools.some((p) => typeof p !== 'string')) {
    throw confError('ipam.pools', 'must be a list of pool names or CIDRs');
  }
  return ipam;
}
