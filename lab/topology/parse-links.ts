// Validation of links: endpoints, interface names, link subnets, overlaps, default gateways.
import {
  AddressError,
  type Cidr,
  cidrContains,
  cidrOf,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  type InterfaceAddress,
  type IpFamily,
  offsetIn,
  parseCidr,
  parseInterfaceAddress,
  pointToPointAddresses,
} from '../../common/addr.js';
import { errorMessage, type Issues, isMap, type Json } from './issues.js';
import { bridgeSegments, directPeers } from './neighbors.js';
import { readLabels } from './parse-node.js';
import {
  BRIDGE_DEVICE,
  LABEL,
  type LabInterface,
  type LabLink,
  type LabNode,
  type Topology,
} from './types.js';

const IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * The address of a LAN member, from a link label on its link to `bridge`: a host address with
 * the LAN's prefix length (`198.18.3.11/24`), neither the subnet's first address nor (IPv4) its last.
 */
function lanAddress(text: string, fam: IpFamily, bridge: string): InterfaceAddress {
  const hint = `on a link to bridge ${bridge}, give the other endpoint's address with the LAN's prefix length (e.g. ${fam === 4 ? '198.18.3.11/24' : '2001:2:3::11/64'})`;
  let a: InterfaceAddress;
  try {
    a = parseInterfaceAddress(text);
  } catch (e) {
    throw new AddressError(`${errorMessage(e)}; ${hint}`);
  }
  if (a.family !== fam) throw new AddressError(`"${text}" is not an IPv${fam} address; ${hint}`);
  const maxLength = fam === 4 ? 30 : 126;
  if (a.prefixLength > maxLength) throw new AddressError(`"${text}": /${a.prefixLength} is no LAN; ${hint}`);
  const cidr = cidrOf(a);
  const offset = offsetIn(cidr, a.address);
  if (offset === 0n || (fam === 4 && offset === cidrSize(cidr) - 1n)) {
    throw new AddressError(
      `"${text}" is the ${offset === 0n ? 'network' : 'broadcast'} address of ${formatCidr(cidr)}; ${hint}`,
    );
  }
  return a;
}

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
    const [ea, eb] = ends;
    if (!ea || !eb) return;
    if (ea.node === eb.node && ea.iface === eb.iface) return; // already reported as duplicate
    const bridgeA = nodes.get(ea.node)?.kind === 'bridge';
    const bridgeB = nodes.get(eb.node)?.kind === 'bridge';
    for (const [j, end, isBridge] of [
      [0, ea, bridgeA],
      [1, eb, bridgeB],
    ] as const) {
      if (isBridge && end.iface === BRIDGE_DEVICE)
        issues.add(
          `${path}.endpoints[${j}]`,
          `"${BRIDGE_DEVICE}" is the bridge device of ${end.node}; use eth1 and up`,
        );
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
        if (bridgeA && bridgeB) throw new AddressError('a link between two bridges carries no addresses');
        if (bridgeA || bridgeB) {
          // A LAN member: the label is that endpoint's own address, with the LAN's prefix length.
          const member = bridgeA ? 1 : 0;
          addrs[member].push(lanAddress(text, fam, bridgeA ? ea.node : eb.node));
        } else {
          const cidr = parseCidr(text);
          if (cidr.family !== fam) throw new AddressError(`"${text}" is not an IPv${fam} prefix`);
          const [x, y] = pointToPointAddresses(cidr);
          addrs[0].push(x);
          addrs[1].push(y);
        }
      } catch (e) {
        issues.add(at, errorMessage(e));
      }
    }
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

/**
 * Link subnets and loopbacks must not overlap, except that the members of one LAN share its
 * subnet (with the same prefix length, each with its own address).
 */
export function checkAddressOverlaps(links: LabLink[], nodes: LabNode[], issues: Issues): void {
  const segments = bridgeSegments({ nodes, links });
  const seen: { cidr: Cidr; path: string; address: string; segment?: string }[] = [];
  links.forEach((l, i) => {
    const bridge = [l.a, l.b].find((e) => segments.has(e.node));
    const segment = bridge && segments.get(bridge.node);
    // A point-to-point link's subnet is counted once; a LAN member's address each time.
    for (const a of segment ? [...l.a.addresses, ...l.b.addresses] : l.a.addresses) {
      const cidr = cidrOf(a);
      const path = `topology.links[${i}].labels["${a.family === 4 ? LABEL.linkIpv4 : LABEL.linkIpv6}"]`;
      for (const s of seen) {
        if (!cidrsOverlap(s.cidr, cidr)) continue;
        const sameLan = segment !== undefined && s.segment === segment;
        if (sameLan && s.cidr.prefixLength === cidr.prefixLength) {
          if (s.address !== a.address) continue;
          issues.add(path, `${a.address} is already used by ${s.path}`);
          break;
        }
        issues.add(
          path,
          `${formatCidr(cidr)} overlaps ${formatCidr(s.cidr)} of ${s.path}${sameLan ? ' (one LAN subnet: give every member the same prefix length)' : ''}`,
        );
        break;
      }
      seen.push({ cidr, path, address: a.address, segment });
    }
  });
  for (const n of nodes) {
    for (const lo of n.loopbacks) {
      const path = `topology.nodes.${n.name}.labels["${LABEL.loopback}"]`;
      const clash = seen.find((s) => cidrContains(s.cidr, lo.address));
      if (clash) issues.add(path, `${lo.address} is inside ${formatCidr(clash.cidr)} of ${clash.path}`);
      seen.push({ cidr: cidrOf(lo), path, address: lo.address });
    }
  }
}

/**
 * Fills in default gateways for server nodes and checks that every gateway is on a link. A
 * server routes through the far end of its first link of that family; on a LAN, through the
 * LAN's one router on its subnet (with several, the label must choose).
 */
export function resolveGateways(
  graph: Pick<Topology, 'nodes' | 'links'>,
  node: LabNode,
  path: string,
  issues: Issues,
): void {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const fam of [4, 6] as const) {
    const key = fam === 4 ? 'gateway4' : 'gateway6';
    const label = fam === 4 ? LABEL.gateway4 : LABEL.gateway6;
    const explicit = node[key];
    if (explicit === undefined) {
      if (node.role !== 'node') continue;
      const first = node.interfaces.find((i) => i.addresses.some((a) => a.family === fam));
      if (!first) continue;
      const candidates = directPeers(graph, node).filter(
        (p) =>
          p.interface === first.name &&
          p.family === fam &&
          (p.bridge === undefined || byName.get(p.peerNode)?.role === 'router'),
      );
      if (candidates.length > 1 && candidates[0]?.bridge !== undefined) {
        issues.add(
          `${path}["${label}"]`,
          `required: ${first.name} is on bridge ${candidates[0].bridge} with several routers (${candidates.map((c) => c.peerNode).join(', ')})`,
        );
      }
      node[key] = candidates[0]?.address;
      continue;
    }
    const onLink = node.interfaces.some((i) =>
      i.addresses.some((a) => a.family === fam && cidrContains(cidrOf(a), explicit)),
    );
    if (!onLink)
      issues.add(`${path}["${label}"]`, `${explicit} is not inside any of the node's link subnets`);
  }
}
