// Reads a containerlab topology file and validates all of it before anything is created.
// Every problem is collected with the path of the field it concerns; nothing is half-accepted.
import { parseDocument } from 'yaml';
import {
  AddressError,
  type Cidr,
  cidrContains,
  cidrOf,
  cidrsOverlap,
  formatCidr,
  type InterfaceAddress,
  parseCidr,
  parseInterfaceAddress,
  parseIp,
  pointToPointAddresses,
} from '../../common/addr.js';
import {
  LABEL,
  type LabInterface,
  type LabLink,
  type LabNode,
  type LabRole,
  type Topology,
  TopologyError,
  type TopologyIssue,
} from './types.js';

/** Keys containerlab accepts at the top level (it parses strictly and rejects others). */
const TOP_LEVEL_KEYS = new Set(['name', 'prefix', 'mgmt', 'topology', 'settings']);
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const SUPPORTED_KINDS = new Set(['linux']);
const KNOWN_LABELS = new Set<string>(Object.values(LABEL));

type Json = unknown;
const isMap = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Issues {
  readonly list: TopologyIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

export interface ParseOptions {
  /** Realize the lab under another name (two copies of one file can be up at once). */
  name?: string;
  /** For messages. */
  source?: string;
}

export function parseTopology(text: string, opts: ParseOptions = {}): Topology {
  const source = opts.source ?? 'topology';
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new TopologyError(
      source,
      doc.errors.map((e) => ({
        path: `line ${e.linePos?.[0]?.line ?? '?'}`,
        message: e.message.split('\n')[0] ?? '',
      })),
    );
  }
  const issues = new Issues();
  const topo = validate(doc.toJS() as Json, issues, opts.name);
  if (issues.list.length > 0 || !topo) throw new TopologyError(source, issues.list);
  return topo;
}

function validate(root: Json, issues: Issues, nameOverride?: string): Topology | undefined {
  if (!isMap(root)) {
    issues.add('(root)', 'must be a mapping with `name` and `topology`');
    return undefined;
  }
  for (const key of Object.keys(root)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      issues.add(key, 'unknown top-level key (containerlab rejects it too); put tabby settings in labels');
    }
  }
  const name = nameOverride ?? root.name;
  const namePath = nameOverride ? '--name' : 'name';
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    issues.add(namePath, 'required: lowercase letters, digits and dashes, at most 32 characters');
  }
  const topology = root.topology;
  if (!isMap(topology)) {
    issues.add('topology', 'required: a mapping with `nodes` and `links`');
    return undefined;
  }
  const nodesIn = topology.nodes;
  if (!isMap(nodesIn) || Object.keys(nodesIn).length === 0) {
    issues.add('topology.nodes', 'required: at least one node');
    return undefined;
  }
  const nodes = new Map<string, LabNode>();
  const defaults = isMap(topology.defaults) ? topology.defaults : {};
  const kinds = isMap(topology.kinds) ? topology.kinds : {};
  for (const [nodeName, def] of Object.entries(nodesIn)) {
    const node = validateNode(nodeName, inherit(def, defaults, kinds), `topology.nodes.${nodeName}`, issues);
    if (node) nodes.set(nodeName, node);
  }
  const links = validateLinks(topology.links, nodes, new Set(Object.keys(nodesIn)), issues);
  checkAddressOverlaps(links, [...nodes.values()], issues);
  for (const node of nodes.values()) resolveGateways(node, `topology.nodes.${node.name}.labels`, issues);
  if (issues.list.length > 0) return undefined;
  return {
    name: name as string,
    nodes: [...nodes.values()].sort((x, y) => x.name.localeCompare(y.name)),
    links,
  };
}

/** containerlab inheritance: node settings over `kinds.<kind>` over `defaults` (labels merged). */
function inherit(def: Json, defaults: Record<string, Json>, kinds: Record<string, Json>): Json {
  if (!isMap(def)) return def;
  const kind = def.kind ?? defaults.kind;
  const fromKind =
    typeof kind === 'string' && isMap(kinds[kind]) ? (kinds[kind] as Record<string, Json>) : {};
  const labels = [defaults.labels, fromKind.labels, def.labels];
  const merged: Record<string, Json> = { ...defaults, ...fromKind, ...def, kind };
  if (labels.some((l) => l !== undefined)) {
    merged.labels = labels.every((l) => l === undefined || isMap(l))
      ? Object.assign({}, ...labels.filter((l) => l !== undefined))
      : def.labels;
  }
  return merged;
}

function validateNode(name: string, def: Json, path: string, issues: Issues): LabNode | undefined {
  if (!NAME_RE.test(name))
    issues.add(path, 'node names: lowercase letters, digits and dashes, at most 32 characters');
  if (!isMap(def)) {
    issues.add(path, 'must be a mapping with at least `kind`');
    return undefined;
  }
  const kind = def.kind;
  if (typeof kind !== 'string') issues.add(`${path}.kind`, 'required (e.g. linux)');
  else if (!SUPPORTED_KINDS.has(kind)) {
    issues.add(`${path}.kind`, `"${kind}" is not supported by the netns runner (supported: linux)`);
  }
  if (def.image !== undefined && typeof def.image !== 'string')
    issues.add(`${path}.image`, 'must be a string');
  const labels = readLabels(def.labels, `${path}.labels`, issues);
  const lp = `${path}.labels`;

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
        issues.add(`${lp}["${LABEL.loopback}"]`, addrMessage(e));
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
  for (const key of [LABEL.gateway4, LABEL.gateway6] as const) {
    const gw = labels[key];
    if (gw === undefined) continue;
    const fam = key === LABEL.gateway4 ? 4 : 6;
    try {
      if (parseIp(gw).family !== fam) issues.add(`${lp}["${key}"]`, `"${gw}" is not an IPv${fam} address`);
    } catch (e) {
      issues.add(`${lp}["${key}"]`, addrMessage(e));
    }
  }

  return {
    name,
    kind: typeof kind === 'string' ? kind : 'linux',
    image: typeof def.image === 'string' ? def.image : undefined,
    role,
    asn,
    routerId,
    loopbacks,
    gateway4: labels[LABEL.gateway4],
    gateway6: labels[LABEL.gateway6],
    interfaces: [],
  };
}

function readLabels(value: Json, path: string, issues: Issues): Record<string, string> {
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

function validateLinks(
  value: Json,
  nodes: Map<string, LabNode>,
  declared: Set<string>,
  issues: Issues,
): LabLink[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issues.add('topology.links', 'must be a list');
    return [];
  }
  const used = new Map<string, string>();
  const links: LabLink[] = [];
  value.forEach((def: Json, i: number) => {
    const path = `topology.links[${i}]`;
    if (!isMap(def) || !Array.isArray(def.endpoints)) {
      issues.add(`${path}.endpoints`, 'required: two endpoints like "node:eth1"');
      return;
    }
    if (def.endpoints.length !== 2) {
      issues.add(`${path}.endpoints`, `must have exactly 2 endpoints, has ${def.endpoints.length}`);
      return;
    }
    const ends: { node: string; iface: string }[] = [];
    def.endpoints.forEach((ep: Json, j: number) => {
      const epPath = `${path}.endpoints[${j}]`;
      const m = typeof ep === 'string' ? /^([^:]+):(.+)$/.exec(ep) : null;
      if (!m) {
        issues.add(epPath, `${JSON.stringify(ep)} is not "node:interface"`);
        return;
      }
      const [, node = '', iface = ''] = m;
      if (!declared.has(node)) issues.add(epPath, `unknown node "${node}"`);
      if (iface === 'eth0')
        issues.add(epPath, "eth0 is containerlab's management interface; use eth1 and up");
      else if (iface === 'lo' || !IFACE_RE.test(iface)) {
        issues.add(epPath, `"${iface}" is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -, not lo)`);
      }
      const key = `${node}:${iface}`;
      const prev = used.get(key);
      if (prev) issues.add(epPath, `duplicate interface ${key} (already used by ${prev})`);
      used.set(key, epPath);
      ends.push({ node, iface });
    });
    const labels = readLabels(def.labels, `${path}.labels`, issues);
    let mtu: number | undefined;
    if (def.mtu !== undefined) {
      if (Number.isInteger(def.mtu) && (def.mtu as number) >= 1280 && (def.mtu as number) <= 65535)
        mtu = def.mtu as number;
      else issues.add(`${path}.mtu`, 'must be an integer from 1280 to 65535');
    }
    const addrs: [InterfaceAddress[], InterfaceAddress[]] = [[], []];
    for (const [key, fam] of [
      [LABEL.linkIpv4, 4],
      [LABEL.linkIpv6, 6],
    ] as const) {
      const text = labels[key];
      if (text === undefined) continue;
      const at = `${path}.labels["${key}"]`;
      try {
        const cidr = parseCidr(text);
        if (cidr.family !== fam) throw new AddressError(`"${text}" is not an IPv${fam} prefix`);
        const [x, y] = pointToPointAddresses(cidr);
        addrs[0].push(x);
        addrs[1].push(y);
      } catch (e) {
        issues.add(at, addrMessage(e));
      }
    }
    const [ea, eb] = ends;
    if (!ea || !eb) return;
    if (ea.node === eb.node && ea.iface === eb.iface) return; // already reported as duplicate
    const link: LabLink = {
      a: { node: ea.node, interface: ea.iface, addresses: addrs[0] },
      b: { node: eb.node, interface: eb.iface, addresses: addrs[1] },
      mtu,
    };
    links.push(link);
    for (const [self, peer] of [
      [link.a, link.b],
      [link.b, link.a],
    ] as const) {
      const iface: LabInterface = {
        name: self.interface,
        peerNode: peer.node,
        peerInterface: peer.interface,
        addresses: self.addresses,
        mtu,
      };
      nodes.get(self.node)?.interfaces.push(iface);
    }
  });
  return links;
}

function checkAddressOverlaps(links: LabLink[], nodes: LabNode[], issues: Issues): void {
  const seen: { cidr: Cidr; path: string }[] = [];
  links.forEach((l, i) => {
    for (const a of l.a.addresses) {
      const cidr = cidrOf(a);
      const path = `topology.links[${i}].labels["${a.family === 4 ? LABEL.linkIpv4 : LABEL.linkIpv6}"]`;
      const clash = seen.find((s) => cidrsOverlap(s.cidr, cidr));
      if (clash) issues.add(path, `${formatCidr(cidr)} overlaps ${formatCidr(clash.cidr)} of ${clash.path}`);
      seen.push({ cidr, path });
    }
  });
  for (const n of nodes) {
    for (const lo of n.loopbacks) {
      const path = `topology.nodes.${n.name}.labels["${LABEL.loopback}"]`;
      const clash = seen.find((s) => cidrContains(s.cidr, lo.address));
      if (clash) issues.add(path, `${lo.address} is inside ${formatCidr(clash.cidr)} of ${clash.path}`);
      seen.push({ cidr: cidrOf(lo), path });
    }
  }
}

/** Fills in default gateways for server nodes and checks that every gateway is on a link. */
function resolveGateways(node: LabNode, path: string, issues: Issues): void {
  for (const fam of [4, 6] as const) {
    const key = fam === 4 ? 'gateway4' : 'gateway6';
    const label = fam === 4 ? LABEL.gateway4 : LABEL.gateway6;
    const explicit = node[key];
    if (explicit === undefined) {
      if (node.role !== 'node') continue;
      for (const iface of node.interfaces) {
        const mine = iface.addresses.find((a) => a.family === fam);
        if (!mine) continue;
        node[key] = peerAddress(iface, fam);
        break;
      }
      continue;
    }
    const onLink = node.interfaces.some((i) =>
      i.addresses.some((a) => a.family === fam && cidrContains(cidrOf(a), explicit)),
    );
    if (!onLink)
      issues.add(`${path}["${label}"]`, `${explicit} is not inside any of the node's link subnets`);
  }
}

function peerAddress(iface: LabInterface, fam: 4 | 6): string | undefined {
  const mine = iface.addresses.find((a) => a.family === fam);
  if (!mine) return undefined;
  // The peer's address is the other one of the two the link label produced.
  const [x, y] = pointToPointAddresses(cidrOf(mine));
  return x.address === mine.address ? y.address : x.address;
}

function isIpv4(text: string): boolean {
  try {
    return parseIp(text).family === 4;
  } catch {
    return false;
  }
}

const addrMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
