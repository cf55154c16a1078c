// The wire contract between the CNI plugin (cni/) and the node agent (felix/): one JSON request,
// one JSON response, each a single line, over the agent's unix socket (one request per
// connection). Types and constants only: this file is in the plugin's import graph, which must
// stay tiny (no Kubernetes client, no gRPC, no logging library).
//
// The agent is CNI-version agnostic: it receives the parsed, validated request and returns a
// version-less result; the plugin converts that result to the config's cniVersion.

/** Where the agent listens unless the network config's `agentSocket` says otherwise. */
export const DEFAULT_AGENT_SOCKET = '/var/run/tabby/cni.sock';

/** Bumped on incompatible changes; the agent refuses requests of another version. */
export const PROTOCOL_VERSION = 1;

/** Gateway every pod routes through; the host side of its veth answers ARP for it (proxy ARP). */
export const POD_GATEWAY_V4 = '169.254.1.1';
/** Host-side MAC of every pod veth (as Calico): pods never learn a real host MAC. */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
/** IPv6 gateway: the host veth's link-local address, derived from HOST_VETH_MAC (EUI-64). */
export const POD_GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

export type AgentVerb = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS';

/** Kubernetes identity from CNI_ARGS (K8S_POD_NAMESPACE / K8S_POD_NAME / K8S_POD_UID). */
export interface PodIdentity {
  namespace?: string;
  name?: string;
  uid?: string;
  /** K8S_POD_INFRA_CONTAINER_ID when the runtime sends it. */
  infraContainerId?: string;
}

/** runtimeConfig.dns as sent by the runtime, keys normalised to lower case. */
export interface RuntimeDns {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

/** tabby's part of the network config (the plugin object of the conflist), validated by the plugin. */
export interface TabbyNetConf {
  /** The network name (conflist `name`), part of every IPAM handle. */
  network: string;
  /** The cniVersion the runtime asked for (results are answered in it). */
  cniVersion: string;
  /** Unix socket of the agent (default DEFAULT_AGENT_SOCKET). */
  agentSocket: string;
  /** Pod MTU; 0 lets the agent decide (its configured MTU or the underlay's). */
  mtu: number;
  ipam: {
    /** Address families to assign (default: IPv4 only). */
    assignIpv4: boolean;
    assignIpv6: boolean;
    /** Pool names or CIDRs to take addresses from (default: any pool that selects the node). */
    pools: string[];
  };
  /** DNS from the config (`dns`), merged by the plugin with runtimeConfig.dns into the result. */
  dns?: CniDns;
}

/** A request to the agent. */
export interface AgentRequest {
  protocol: typeof PROTOCOL_VERSION;
  verb: AgentVerb;
  /** CNI_CONTAINERID (absent for GC and STATUS). */
  containerId?: string;
  /** CNI_NETNS: a path; absent or empty for a DEL whose namespace is gone. */
  netns?: string;
  /** CNI_IFNAME. */
  ifname?: string;
  pod?: PodIdentity;
  conf: TabbyNetConf;
  /** runtimeConfig.dns, passed through into the result. */
  dns?: RuntimeDns;
  /** For CHECK (required) and DEL (optional): the previous result, parsed into the neutral form. */
  prevResult?: CniResult;
  /** For GC: the attachments still valid on this node (every other one of this network is released). */
  validAttachments?: { containerId: string; ifname: string }[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The netns path for interfaces inside the sandbox; absent for host interfaces. */
  sandbox?: string;
}

export interface CniIp {
  /** CIDR notation: 10.244.1.7/32. */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A result in neutral form (1.x shape); the plugin renders it for the requested cniVersion. */
export interface CniResult {
  interfaces: CniInterface[];
  ips: CniIp[];
  routes: CniRoute[];
  dns: CniDns;
}

/** A spec error: code (see CNI_ERROR), message naming what is wrong, optional details. */
export interface CniErrorBody {
  code: number;
  msg: string;
  details?: string;
}

export type AgentResponse = { ok: true; result?: CniResult } | { ok: false; error: CniErrorBody };

/** Error codes: the spec's (0–99) and tabby's own (100+). */
export const CNI_ERROR = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** STATUS: the plugin is not ready for ADD (agent unreachable or not ready). */
  notAvailable: 50,
  notAvailableLimited: 51,
  /** tabby: the agent failed in a way not covered below. */
  internal: 100,
  /** tabby: no address could be assigned (no pool selects the node, pool exhausted...). */
  ipamExhausted: 101,
  /** tabby: the kernel refused part of the wiring (rolled back). */
  dataplane: 102,
  /** tabby: ADD for an interface that already exists in the sandbox. */
  interfaceExists: 103,
  /** tabby: CHECK found the pod's wiring or addresses differ from prevResult. */
  checkFailed: 104,
  /** tabby: the plugin and the agent speak different protocol versions. */
  protocolMismatch: 105,
} as const;
