// The neutral CniResult → the result document of the config's cniVersion. Always answered in the
// version asked for: 0.3.1/0.4.0 carry `ips[].version` ("4"/"6"), 1.0.0 dropped it, and the
// 1.1.0-only fields (interfaces[].mtu here) never reach an older client.
import { cidrFamily } from './addresses.js';
import type { CniDns, CniInterface, CniIp, CniResult, CniRoute } from './protocol.js';
import { type CniVersion, compareVersions } from './versions.js';

interface RenderedIp extends CniIp {
  version?: '4' | '6';
}

export interface RenderedResult {
  cniVersion: CniVersion;
  interfaces: CniInterface[];
  ips: RenderedIp[];
  routes: CniRoute[];
  dns: CniDns;
}

function renderInterface(i: CniInterface, withMtu: boolean): CniInterface {
  const out: CniInterface = { name: i.name };
  if (i.mac !== undefined) out.mac = i.mac;
  if (withMtu && i.mtu !== undefined) out.mtu = i.mtu;
  if (i.sandbox !== undefined) out.sandbox = i.sandbox;
  return out;
}

function renderIp(ip: CniIp, withVersion: boolean): RenderedIp {
  const out: RenderedIp = withVersion
    ? { version: cidrFamily(ip.address) === 6 ? '6' : '4', address: ip.address }
    : { address: ip.address };
  if (ip.gateway !== undefined) out.gateway = ip.gateway;
  if (ip.interface !== undefined) out.interface = ip.interface;
  return out;
}

const renderRoute = (r: CniRoute): CniRoute =>
  r.gw !== undefined ? { dst: r.dst, gw: r.gw } : { dst: r.dst };

export function renderResult(result: CniResult, version: CniVersion): RenderedResult {
  const pre1 = compareVersions(version, '1.0.0') < 0;
  const is11 = compareVersions(version, '1.1.0') >= 0;
  return {
    cniVersion: version,
    interfaces: result.interfaces.map((i) => renderInterface(i, is11)),
    ips: result.ips.map((ip) => renderIp(ip, pre1)),
    routes: result.routes.map(renderRoute),
    dns: { ...result.dns },
  };
}
