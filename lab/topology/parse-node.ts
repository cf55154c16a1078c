// Validation of one topology node: kind, containerlab inheritance, and tabby's labels.
import { type InterfaceAddress, parseInterfaceAddress, parseIp } from '../../common/addr.js';
import { errorMessage, type Issues, isMap, type Json, NAME_RE } from './issues.js';
import { type BgpDaemon, LABEL, type LabNode, type LabRole } from './types.js';

const SUPPORTED_KINDS = new Set(['linux', 'bridge']);
const KNOWN_LABELS = new Set<string>(Object.values(LABEL));
/** A TCP MD5 key: 1-80 printable characters, no space, quote or backslash (FRR and BIRD syntax). */
const PASSWORD_RE = /^[!#-[\]-~]{1,80}$/;

/** containerlab inheritance: node settings over `kinds.<kind>` over `defaults` (labels merged). */
export function inherit(def: Json, defaults: Record<string, Json>, kinds: Record<string, Json>): Json {
  if (!isMap(def)) return def;
  const kind = def.kind ?? defaults.kind;
  const fromKind =
    typeof kind === 'string' && isMap(kinds[kind]) ? (kinds[kind] as Record<string, Json>) : {};
  const labels = [defaults.labels, fromKind.labels, def.labels];
  const merged: Record<string, Json> = { ...defaults, ...fromKind, ...def, kind };
  if (kind === 'bridge') {
    // A bridge takes no tabby labels: those of `defaults` and `kinds` are meant for other nodes.
    merged.labels = def.labels;
  } else if (labels.some((l) => l !== undefined)) {
    merged.labels = labels.every((l) => l === undefined || isMap(l))
      ? Object.assign({}, ...labels.filter((l) => l !== undefined))
      : def.labels;
  }
  return merged;
}

export function validateNode(name: string, def: Json, path: string, issues: Issues): LabNode | undefined {
  if (!NAME_RE.test(name))
    issues.add(path, 'node names: lowercase letters, digits and dashes, at most 32 characters');
  if (!isMap(def)) {
    issues.add(path, 'must be a mapping with at least `kind`');
    return undefined;
  }
  const kind = def.kind;
  if (typeof kind !== 'string') issues.add(`${path}.kind`, 'required (e.g. linux)');
  else if (!SUPPORTED_KINDS.has(kind)) {
    issues.add(
      `${path}.kind`,
      `"${kind}" is not supported by the netns runner (supported: ${[...SUPPORTED_KINDS].join(', ')})`,
    );
  }
  if (def.image !== undefined && typeof def.image !== 'string')
    issues.add(`${path}.image`, 'must be a string');
  const labels = readLabels(def.labels, `${path}.labels`, issues);
  const lp = `${path}.labels`;
  if (kind === 'bridge') return validateBridge(name, labels, lp, issues);

  const roleText = labels[LABEL.role] ?? 'node';
  let role: LabRole = 'node';
  if (roleText === 'router' || roleText === 'node') role = roleText;
  else issues.add(`${lp}["${LABEL.role}"]`, `"${roleText}" is not a role (router or node)`);

  let asn: number | undefined;
  const asnText = labels[LABEL.asn];
  if (asnText !== undefined) {
    if (/^\d+$/.test(asnText) && Number(asnText) >= 1 && Number(asnText) <= 4294967294) asn = Number(asnText);
    else issues.add(`${lp}["${LABEL.asn}"]`, `"${asnText}" is not an AS number (1-4294967294)`);
  } else if (role === 'router') {
    issues.add(`${lp}["${LABEL.asn}"]`, 'required for routers');
  }

  const loopbacks: InterfaceAddress[] = [];
  const loText = labels[LABEL.loopback];
  if (loText !== undefined) {
    for (const item of loText.split(',').map((s) => s.trim())) {
      try {
        loopbacks.push(parseInterfaceAddress(item));
      } catch (e) {
        issues.add(`${lp}["${LABEL.loopback}"]`, errorMessage(e));
      }
    }
  }

  let routerId = labels[LABEL.routerId];
  if (routerId !== undefined) {
    if (!isIpv4(routerId)) issues.add(`${lp}["${LABEL.routerId}"]`, `"${routerId}" is not an IPv4 address`);
  } else {
    routerId = loopbacks.find((l) => l.family === 4)?.address;
    if (role === 'router' && !routerId) {
      issues.add(`${lp}["${LABEL.routerId}"]`, 'required for routers without an IPv4 loopback');
    }
  }
  let daemon: BgpDaemon | undefined;
  const daemonText = labels[LABEL.bgpDaemon];
  if (role === 'router') {
    if (daemonText === undefined || daemonText === 'frr' || daemonText === 'bird')
      daemon = daemonText ?? 'frr';
    else issues.add(`${lp}["${LABEL.bgpDaemon}"]`, `"${daemonText}" is not a BGP daemon (frr or bird)`);
  } else if (daemonText !== undefined) {
    issues.add(`${lp}["${LABEL.bgpDaemon}"]`, 'only routers run a lab BGP daemon (servers run tabby)');
  }
  const password = labels[LABEL.bgpPassword];
  if (password !== undefined && !PASSWORD_RE.test(password)) {
    issues.add(
      `${lp}["${LABEL.bgpPassword}"]`,
      '1-80 printable characters without spaces, quotes or backslashes',
    );
  }
  for (const key of [LABEL.gateway4, LABEL.gateway6] as const) {
    const gw = labels[key];
    if (gw === undefined) continue;
    const fam = key === LABEL.gateway4 ? 4 : 6;
    try {
      if (parseIp(gw).family !== fam) issues.add(`${lp}["${key}"]`, `"${gw}" is not an IPv${fam} address`);
    } catch (e) {
      issues.add(`${lp}["${key}"]`, errorMessage(e));
    }
  }

  return {
    name,
    kind: typeof kind === 'string' ? kind : 'linux',
    image: typeof def.image === 'string' ? def.image : undefined,
    role,
    asn,
    daemon,
    password,
    routerId,
    loopbacks,
    gateway4: labels[LABEL.gateway4],
    gateway6: labels[LABEL.gateway6],
    interfaces: [],
  };
}

/** A `kind: bridge` node: a LAN segment; it has interfaces but no addresses and no tabby labels. */
function validateBridge(name: string, labels: Record<string, string>, lp: string, issues: Issues): LabNode {
  for (const key of Object.keys(labels)) {
    if (key.startsWith('tabby.dev/'))
      issues.add(`${lp}["${key}"]`, 'a bridge takes no tabby labels (it has no addresses and runs nothing)');
  }
  return { name, kind: 'bridge', role: 'bridge', loopbacks: [], interfaces: [] };
}

export function readLabels(value: Json, path: string, issues: Issues): Record<string, string> {
  if (value === undefined) return {};
  if (!isMap(value)) {
    issues.add(path, 'must be a mapping of strings');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('tabby.dev/') && !KNOWN_LABELS.has(k)) {
      issues.add(`${path}["${k}"]`, `unknown tabby label (known: ${[...KNOWN_LABELS].join(', ')})`);
      continue;
    }
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
    else issues.add(`${path}["${k}"]`, 'label values must be strings or numbers');
  }
  return out;
}

function isIpv4(text: string): boolean {
  try {
    return parseIp(text).family === 4;
  } catch {
    return false;
  }
}
