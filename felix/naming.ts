// Names the agent derives: host-side veth names, IPAM handles, veth aliases, pod MACs. Pure.
import { createHash, randomBytes } from 'node:crypto';
import type { PodIdentity } from '../cni/protocol.js';

/** Linux interface names hold at most 15 characters. */
const IFNAMSIZ = 15;

/**
 * The host-side veth of a pod: prefix + hash of namespace/pod (as Calico), so the name is stable
 * across sandbox re-creations and an operator can compute it. Without a Kubernetes identity
 * (a bare CNI client), the container id stands in. A second interface of the same pod
 * (CNI_IFNAME other than eth0) hashes its ifname in too.
 */
export function vethName(prefix: string, containerId: string, ifname: string, pod?: PodIdentity): string {
  // '/' occurs in no namespace, pod name, container id or ifname: distinct inputs, distinct keys.
  let key = pod?.namespace && pod.name ? `${pod.namespace}/${pod.name}` : containerId;
  if (ifname !== 'eth0') key += `/${ifname}`;
  const hash = createHash('sha1').update(key).digest('hex');
  return prefix + hash.slice(0, IFNAMSIZ - prefix.length);
}

/**
 * The IPAM handle of one attachment: `<network>/<containerId>`, with `/<ifname>` appended for
 * interfaces other than eth0. '/' occurs in none of the parts (the spec forbids it in network
 * names, container ids and ifnames), so a handle names its network without ambiguity — GC of
 * network "a" can never take "a.b"'s handles.
 */
export const handleFor = (network: string, containerId: string, ifname: string): string =>
  ifname === 'eth0' ? `${network}/${containerId}` : `${network}/${containerId}/${ifname}`;

/** The attachment a handle names, or undefined when it is not one of `network`'s. */
export function attachmentOfHandle(
  handle: string,
  network: string,
): { containerId: string; ifname: string } | undefined {
  if (!handle.startsWith(`${network}/`)) return undefined;
  const [containerId, ifname, ...rest] = handle.slice(network.length + 1).split('/');
  if (!containerId || rest.length > 0) return undefined;
  return { containerId, ifname: ifname ?? 'eth0' };
}

/** Whether `handle` belongs to `network`. */
export const handleInNetwork = (handle: string, network: string): boolean => handle.startsWith(`${network}/`);

/** What the host-side veth's alias records, so a restarted agent knows its pods from the kernel. */
export interface VethOwner {
  network: string;
  containerId: string;
  ifname: string;
  /** Pod addresses (no prefix length). */
  addresses: string[];
}

const ALIAS_TAG = 'tabby';

export const aliasFor = (o: VethOwner): string =>
  [ALIAS_TAG, o.network, o.ifname, o.containerId, o.addresses.join(',')].join('|');

/** The owner recorded in an alias, or undefined when the alias is not one of tabby's. */
export function parseAlias(alias: string | undefined): VethOwner | undefined {
  const parts = alias?.split('|');
  if (parts?.length !== 5 || parts[0] !== ALIAS_TAG) return undefined;
  const [, network, ifname, containerId, addresses] = parts as [string, string, string, string, string];
  if (!network || !ifname || !containerId) return undefined;
  return { network, ifname, containerId, addresses: addresses ? addresses.split(',') : [] };
}

/** A random, locally administered, unicast MAC for a pod's interface. */
export function randomPodMac(): string {
  const b = randomBytes(6);
  b[0] = ((b[0] as number) & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
