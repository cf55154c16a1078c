// DNS: the config's `dns` (spec well-known key), runtimeConfig.dns (the `dns` capability: the
// pod's resolv.conf from the kubelet), and which of them the ADD result reports.
import { type JsonObject, optionalObject, optionalString, optionalStringArray } from './json-fields.js';
import type { CniDns, RuntimeDns } from './protocol.js';

/** A `dns` object (config or result): nameservers, domain, search, options. */
export function parseDns(obj: JsonObject, key: string, path: string): CniDns | undefined {
  const dns = optionalObject(obj, key, path);
  if (!dns) return undefined;
  const out: CniDns = {};
  const nameservers = optionalStringArray(dns, 'nameservers', `${path}.nameservers`);
  const domain = optionalString(dns, 'domain', `${path}.domain`);
  const search = optionalStringArray(dns, 'search', `${path}.search`);
  const options = optionalStringArray(dns, 'options', `${path}.options`);
  if (nameservers) out.nameservers = nameservers;
  if (domain) out.domain = domain;
  if (search) out.search = search;
  if (options) out.options = options;
  return out;
}

const RUNTIME_DNS_KEYS: readonly (keyof RuntimeDns)[] = ['servers', 'searches', 'options'];

/**
 * runtimeConfig.dns. Keys are matched case-insensitively as Go's JSON decoder does: containerd
 * sends `Servers`/`Searches`/`Options`, CONVENTIONS.md says `servers`/`searches`/`options`.
 * Undefined when absent or when it names none of the three.
 */
export function parseRuntimeDns(runtimeConfig: JsonObject | undefined): RuntimeDns | undefined {
  if (!runtimeConfig) return undefined;
  const dns = optionalObject(runtimeConfig, 'dns', 'runtimeConfig.dns');
  if (!dns) return undefined;
  const out: RuntimeDns = {};
  for (const rawKey of Object.keys(dns)) {
    const key = RUNTIME_DNS_KEYS.find((k) => k === rawKey.toLowerCase());
    if (!key) continue;
    const values = optionalStringArray(dns, rawKey, `runtimeConfig.dns.${rawKey}`);
    if (values) out[key] = values;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The ADD result's dns: the runtime's when it sent any, else the config's, else the agent's. */
export function resultDns(
  runtime: RuntimeDns | undefined,
  config: CniDns | undefined,
  agent: CniDns,
): CniDns {
  if (runtime) {
    const out: CniDns = {};
    if (runtime.servers) out.nameservers = runtime.servers;
    if (runtime.searches) out.search = runtime.searches;
    if (runtime.options) out.options = runtime.options;
    return out;
  }
  return config ?? agent;
}
