// The network config on stdin → TabbyNetConf plus what the runtime injected (runtimeConfig.dns,
// prevResult). Undecodable input is code 6, an unsupported cniVersion code 1, any other problem
// code 7 naming the field. Keys tabby does not read (capabilities, runtimeConfig.*, args,
// ipam.type...) are ignored, as the spec asks.
import { parseDns } from './dns.js';
import { CniError, incompatibleVersion, invalidConfig } from './errors.js';
import {
  isObject,
  type JsonObject,
  optionalBoolean,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringArray,
  requiredString,
} from './json-fields.js';
import { NAME_PATTERN } from './names.js';
import { CNI_ERROR, DEFAULT_AGENT_SOCKET, type TabbyNetConf } from './protocol.js';
import { type CniVersion, isSupportedVersion, isVersionString, SUPPORTED_VERSIONS } from './versions.js';

/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const MIN_MTU = 68;
const MAX_MTU = 65535;

/** Parses stdin as a JSON object (code 6 when it is not one). */
export function decodeNetConf(stdin: string): JsonObject {
  if (stdin.trim() === '') throw new CniError(CNI_ERROR.decodeFailure, 'network config: stdin is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CNI_ERROR.decodeFailure, 'network config: invalid JSON', (e as Error).message);
  }
  if (!isObject(doc)) throw new CniError(CNI_ERROR.decodeFailure, 'network config: must be a JSON object');
  return doc;
}

/** The document's cniVersion when it is one the plugin speaks (error documents are rendered in it). */
export function supportedVersionOf(doc: JsonObject | undefined): CniVersion | undefined {
  const v = doc?.cniVersion;
  return typeof v === 'string' && isSupportedVersion(v) ? v : undefined;
}

export function parseCniVersion(doc: JsonObject): CniVersion {
  const v = requiredString(doc, 'cniVersion', 'cniVersion');
  if (!isVersionString(v)) throw invalidConfig(`cniVersion: "${v}" is not a version (x.y.z)`);
  if (!isSupportedVersion(v)) {
    throw incompatibleVersion(
      `cniVersion: "${v}" is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
    );
  }
  return v;
}

function parseAgentSocket(doc: JsonObject): string {
  const socket = optionalString(doc, 'agentSocket', 'agentSocket');
  if (socket === undefined) return DEFAULT_AGENT_SOCKET;
  if (!socket.startsWith('/')) throw invalidConfig(`agentSocket: "${socket}" must be an absolute path`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw invalidConfig(`agentSocket: must be at most ${MAX_SOCKET_PATH_BYTES} bytes (a unix socket path)`);
  }
  return socket;
}

function parseMtu(doc: JsonObject): number {
  const mtu = optionalInteger(doc, 'mtu', 'mtu') ?? 0;
  if (mtu !== 0 && (mtu < MIN_MTU || mtu > MAX_MTU)) {
    throw invalidConfig(`mtu: ${mtu} must be 0 (agent decides) or ${MIN_MTU}..${MAX_MTU}`);
  }
  return mtu;
}

function parseIpam(doc: JsonObject): TabbyNetConf['ipam'] {
  const ipam = optionalObject(doc, 'ipam', 'ipam') ?? {};
  const assignIpv4 = optionalBoolean(ipam, 'assignIpv4', 'ipam.assignIpv4') ?? true;
  const assignIpv6 = optionalBoolean(ipam, 'assignIpv6', 'ipam.assignIpv6') ?? false;
  if (!assignIpv4 && !assignIpv6) {
    throw invalidConfig('ipam: at least one of ipam.assignIpv4 and ipam.assignIpv6 must be true');
  }
  const pools = optionalStringArray(ipam, 'pools', 'ipam.pools') ?? [];
  pools.forEach((pool, i) => {
    if (pool.trim() === '') throw invalidConfig(`ipam.pools[${i}]: must not be empty`);
  });
  return { assignIpv4, assignIpv6, pools };
}

/** TabbyNetConf whose cniVersion is known to be one the plugin speaks. */
export type VersionedNetConf = TabbyNetConf & { cniVersion: CniVersion };

/** tabby's part of the plugin config, every field validated, defaults filled in. */
export function parseTabbyNetConf(doc: JsonObject): VersionedNetConf {
  const cniVersion = parseCniVersion(doc);
  const network = requiredString(doc, 'name', 'name');
  if (!NAME_PATTERN.test(network))
    throw invalidConfig(`name: "${network}" must match ${NAME_PATTERN.source}`);
  requiredString(doc, 'type', 'type');
  const conf: VersionedNetConf = {
    network,
    cniVersion,
    agentSocket: parseAgentSocket(doc),
    mtu: parseMtu(doc),
    ipam: parseIpam(doc),
  };
  const dns = parseDns(doc, 'dns', 'dns');
  if (dns) conf.dns = dns;
  return conf;
}
