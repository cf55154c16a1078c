// A result of any supported spec version (a prevResult, or the agent's reply) → the neutral
// CniResult. 0.3.x/0.4.0's `ips[].version` is checked and dropped; fields the neutral form has no
// place for (1.1.0's socketPath/pciID, routes' mtu/advmss/priority/table/scope) are dropped too.
// Errors are invalid-config errors (code 7) naming the field under `path`.
import { cidrFamily, isIpAddress } from './addresses.js';
import { parseDns } from './dns.js';
import { invalidConfig } from './errors.js';
import {
  isObject,
  type JsonObject,
  optionalArray,
  optionalInteger,
  optionalString,
  requiredString,
} from './json-fields.js';
import type { CniInterface, CniIp, CniResult, CniRoute } from './protocol.js';

function objectAt(v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw invalidConfig(`${path}: must be an object`);
  return v;
}

function parseCidr(obj: JsonObject, key: string, path: string): { cidr: string; family: 4 | 6 } {
  const cidr = requiredString(obj, key, path);
  const family = cidrFamily(cidr);
  if (family === 0) throw invalidConfig(`${path}: "${cidr}" is not an address in CIDR notation`);
  return { cidr, family };
}

function optionalIp(obj: JsonObject, key: string, path: string): string | undefined {
  const ip = optionalString(obj, key, path);
  if (ip !== undefined && !isIpAddress(ip)) throw invalidConfig(`${path}: "${ip}" is not an IP address`);
  return ip;
}

function parseInterface(v: unknown, path: string): CniInterface {
  const o = objectAt(v, path);
  const out: CniInterface = { name: requiredString(o, 'name', `${path}.name`) };
  const mac = optionalString(o, 'mac', `${path}.mac`);
  const mtu = optionalInteger(o, 'mtu', `${path}.mtu`);
  const sandbox = optionalString(o, 'sandbox', `${path}.sandbox`);
  if (mac) out.mac = mac;
  if (mtu !== undefined) {
    if (mtu < 0) throw invalidConfig(`${path}.mtu: must not be negative`);
    out.mtu = mtu;
  }
  if (sandbox) out.sandbox = sandbox;
  return out;
}

function parseIp(v: unknown, path: string): CniIp {
  const o = objectAt(v, path);
  const { cidr, family } = parseCidr(o, 'address', `${path}.address`);
  const version = optionalString(o, 'version', `${path}.version`);
  if (version !== undefined && version !== String(family)) {
    throw invalidConfig(`${path}.version: "${version}" does not match address ${cidr}`);
  }
  const out: CniIp = { address: cidr };
  const gateway = optionalIp(o, 'gateway', `${path}.gateway`);
  const index = optionalInteger(o, 'interface', `${path}.interface`);
  if (gateway) out.gateway = gateway;
  if (index !== undefined) {
    if (index < 0) throw invalidConfig(`${path}.interface: must not be negative`);
    out.interface = index;
  }
  return out;
}

function parseRoute(v: unknown, path: string): CniRoute {
  const o = objectAt(v, path);
  const out: CniRoute = { dst: parseCidr(o, 'dst', `${path}.dst`).cidr };
  const gw = optionalIp(o, 'gw', `${path}.gw`);
  if (gw) out.gw = gw;
  return out;
}

export function parseResult(v: unknown, path: string): CniResult {
  const o = objectAt(v, path);
  const list = <T>(key: string, parse: (item: unknown, itemPath: string) => T): T[] =>
    (optionalArray(o, key, `${path}.${key}`) ?? []).map((item, i) => parse(item, `${path}.${key}[${i}]`));
  return {
    interfaces: list('interfaces', parseInterface),
    ips: list('ips', parseIp),
    routes: list('routes', parseRoute),
    dns: parseDns(o, 'dns', `${path}.dns`) ?? {},
  };
}
