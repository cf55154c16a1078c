// Validation of links: endpoints, interface names, link subnets, overlaps, default gateways.
import {
  AddressError,
  type Cidr,
  cidrContains,
  cidrOf,
  cidrsOverlap,
  formatCidr,
  type InterfaceAddress,
  parseCidr,
  pointToPointAddresses,
} from '../../common/addr.js';
import { errorMessage, type Issues, isMap, type Json } from './issues.js';
import { readLabels } from './parse-node.js';
import { LABEL, type LabInterface, type LabLink, type LabNode } from './types.js';

const IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export function validateLinks(
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
        issues.add(at, errorMessage(e));
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
        peerAddresses: peer.addresses,
        mtu,
      };
      nodes.get(self.node)?.interfaces.push(iface);
    }
  });
  return links;
}

export function checkAddressOverlaps(links: LabLink[], nodes: LabNode[], issues: Issues): void {
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
export function resolveGateways(node: LabNode, path: string, issues: Issues): void {
  for (const fam of [4, 6] as const) {
    const key = fam === 4 ? 'gateway4' : 'gateway6';
    const label = fam === 4 ? LABEL.gateway4 : LABEL.gateway6;
    const explicit = node[key];
    if (explicit === undefined) {
      if (node.role !== 'node') continue;
      // Servers route through the far end of their first link of that family.
      node[key] = node.interfaces.flatMap((i) => i.peerAddresses).find((a) => a.family === fam)?.address;
      continue;
    }
    const onLink = node.interfaces.some((i) =>
      i.addresses.some((a) => a.family === fam && cidrContains(cidrOf(a), explicit)),
    );
    if (!onLink)
      issues.add(`${path}["${label}"]`, `${explicit} is not inside any of the node's link subnets`);
  }
}
