// The agent's configuration: command-line flags, each with an environment variable behind it
// (flags win), validated up front so a bad value stops the agent at start with the flag named.
import { parseArgs } from 'node:util';
import { DEFAULT_API_ADDRESS, DEFAULT_GOBGPD_PATH } from '../bgp/gobgpd-process.js';
import { DEFAULT_AGENT_SOCKET } from '../cni/protocol.js';
import { type IpFamily, parseIp } from '../common/addr.js';

export interface AgentConfig {
  nodeName: string;
  /** kubeconfig path; undefined means in-cluster (service account) configuration. */
  kubeconfig?: string;
  /** Lab only: reach the API server through this unix socket (see lab/control-plane/api-bridge.ts). */
  apiserverSocket?: string;
  /** Host-side veth names start with this (1–7 of [a-z0-9]); the rest is a hash, 15 chars in all. */
  interfacePrefix: string;
  /** Pod MTU; 0 = the underlay's (the default route's device), 1500 when there is none. */
  mtu: number;
  /** Unix socket the CNI plugin talks to (root-only). */
  socket: string;
  healthAddress: string;
  /** 0 picks a free port (logged). */
  healthPort: number;
  /** Route protocol number on every route tabby writes (`ip route ... proto N`). */
  routeProtocol: number;
  resyncIntervalMs: number;
  logLevel: string;
  /**
   * BGP speaker: `sidecar` drives a gobgpd started next to the agent (the DaemonSet's second
   * container), `spawn` starts and supervises gobgpd itself (the lab), `off` routes nothing.
   */
  bgpMode: BgpMode;
  /** gobgpd executable (spawn mode). */
  gobgpdPath: string;
  /** gobgpd's gRPC API: loopback `host:port` or `unix:///path` only (it has no authentication). */
  gobgpApi: string;
  /** The node's IPv4 address on the underlay (BGP source and router id); undefined: autodetect. */
  nodeIp?: string;
  /** The node's IPv6 underlay address, for IPv6 sessions; undefined: autodetect (none is fine). */
  nodeIpv6?: string;
}

export type BgpMode = 'sidecar' | 'spawn' | 'off';
const BGP_MODES: readonly BgpMode[] = ['sidecar', 'spawn', 'off'];

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

const FLAGS = {
  'node-name': { env: 'TABBY_NODE_NAME' },
  kubeconfig: { env: 'KUBECONFIG' },
  'apiserver-socket': { env: 'TABBY_APISERVER_SOCKET' },
  'interface-prefix': { env: 'TABBY_INTERFACE_PREFIX', default: 'tby' },
  mtu: { env: 'TABBY_MTU', default: '0' },
  socket: { env: 'TABBY_CNI_SOCKET', default: DEFAULT_AGENT_SOCKET },
  'health-address': { env: 'TABBY_HEALTH_ADDRESS', default: '127.0.0.1' },
  'health-port': { env: 'TABBY_HEALTH_PORT', default: '9299' },
  'route-protocol': { env: 'TABBY_ROUTE_PROTOCOL', default: '201' },
  'resync-interval': { env: 'TABBY_RESYNC_INTERVAL', default: '60' },
  'log-level': { env: 'TABBY_LOG_LEVEL', default: 'info' },
  'bgp-mode': { env: 'TABBY_BGP_MODE', default: 'sidecar' },
  'gobgpd-path': { env: 'TABBY_GOBGPD_PATH', default: DEFAULT_GOBGPD_PATH },
  'gobgp-api': { env: 'TABBY_GOBGP_API', default: DEFAULT_API_ADDRESS },
  'node-ip': { env: 'TABBY_NODE_IP' },
  'node-ipv6': { env: 'TABBY_NODE_IPV6' },
} as const;
type Flag = keyof typeof FLAGS;

export const USAGE = `usage: tabby-agent [--flag value ...]
${Object.entries(FLAGS)
  .map(
    ([f, d]) => `  --${f.padEnd(18)} env ${d.env.padEnd(24)}${'default' in d ? ` default ${d.default}` : ''}`,
  )
  .join('\n')}`;

function integer(field: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(field, `must be an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(field, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Reads and validates the configuration; throws ConfigError naming the flag. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): AgentConfig {
  const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }]));
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | undefined
    >;
  } catch (e) {
    throw new ConfigError('arguments', (e as Error).message);
  }
  const get = (f: Flag): string | undefined => {
    const d = FLAGS[f];
    const v = values[f] ?? env[d.env];
    if (v !== undefined && v !== '') return v;
    return 'default' in d ? d.default : undefined;
  };
  const name = (f: Flag) => `--${f} (${FLAGS[f].env})`;

  const nodeName = get('node-name');
  if (!nodeName) throw new ConfigError(name('node-name'), 'required: the Kubernetes node this agent serves');
  if (!DNS_LABEL.test(nodeName))
    throw new ConfigError(name('node-name'), `not a valid node name: ${nodeName}`);
  const prefix = get('interface-prefix') as string;
  if (!/^[a-z][a-z0-9]{0,6}$/.test(prefix)) {
    throw new ConfigError(
      name('interface-prefix'),
      `1–7 lowercase letters/digits starting with a letter, got ${prefix}`,
    );
  }
  const mtuRaw = get('mtu') as string;
  const mtu = mtuRaw === '0' ? 0 : integer(name('mtu'), mtuRaw, 68, 65535);
  const socket = get('socket') as string;
  if (!socket.startsWith('/'))
    throw new ConfigError(name('socket'), `must be an absolute path, got ${socket}`);
  const apiserverSocket = get('apiserver-socket');
  if (apiserverSocket !== undefined && !apiserverSocket.startsWith('/')) {
    throw new ConfigError(name('apiserver-socket'), `must be an absolute path, got ${apiserverSocket}`);
  }
  const logLevel = get('log-level') as string;
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new ConfigError(
      name('log-level'),
      `one of trace, debug, info, warn, error, fatal, silent; got ${logLevel}`,
    );
  }
  const bgpMode = get('bgp-mode') as BgpMode;
  if (!BGP_MODES.includes(bgpMode))
    throw new ConfigError(name('bgp-mode'), `one of ${BGP_MODES.join(', ')}; got ${bgpMode}`);
  const gobgpdPath = get('gobgpd-path') as string;
  if (!gobgpdPath.startsWith('/'))
    throw new ConfigError(name('gobgpd-path'), `must be an absolute path, got ${gobgpdPath}`);
  const gobgpApi = get('gobgp-api') as string;
  if (!isLoopbackTarget(gobgpApi)) {
    throw new ConfigError(
      name('gobgp-api'),
      `must be 127.0.0.1:PORT, [::1]:PORT, localhost:PORT or unix:///PATH (gobgpd's API has no authentication), got ${gobgpApi}`,
    );
  }
  const nodeIp = address(name('node-ip'), get('node-ip'), 4);
  const nodeIpv6 = address(name('node-ipv6'), get('node-ipv6'), 6);
  return {
    nodeName,
    kubeconfig: get('kubeconfig'),
    apiserverSocket,
    interfacePrefix: prefix,
    mtu,
    socket,
    healthAddress: get('health-address') as string,
    healthPort: integer(name('health-port'), get('health-port') as string, 0, 65535),
    routeProtocol: integer(name('route-protocol'), get('route-protocol') as string, 5, 255),
    resyncIntervalMs: integer(name('resync-interval'), get('resync-interval') as string, 1, 86400) * 1000,
    logLevel,
    bgpMode,
    gobgpdPath,
    gobgpApi,
    nodeIp,
    nodeIpv6,
  };
}

function isLoopbackTarget(target: string): boolean {
  if (target.startsWith('unix:///')) return true;
  const m = /^(127\.0\.0\.1|\[::1\]|localhost):(\d{1,5})$/.exec(target);
  return m !== null && Number(m[2]) > 0 && Number(m[2]) < 65536;
}

function address(field: string, raw: string | undefined, family: IpFamily): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const ip = parseIp(raw);
    if (ip.family === family) return ip.address;
  } catch {}
  throw new ConfigError(field, `must be an IPv${family} address, got ${JSON.stringify(raw)}`);
}
