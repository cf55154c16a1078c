// Reads a containerlab topology file and validates all of it before anything is created.
// Every problem is collected with the path of the field it concerns; nothing is half-accepted.
import { parseDocument } from 'yaml';
import { Issues, isMap, type Json, NAME_RE } from './issues.js';
import { bgpNeighbors } from './neighbors.js';
import { checkAddressOverlaps, resolveGateways, validateLinks } from './parse-links.js';
import { inherit, validateNode } from './parse-node.js';
import { LABEL, type LabNode, type Topology, TopologyError } from './types.js';

/** Keys containerlab accepts at the top level (it parses strictly and rejects others). */
const TOP_LEVEL_KEYS = new Set(['name', 'prefix', 'mgmt', 'topology', 'settings']);

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
  const graph = { nodes: [...nodes.values()], links };
  for (const node of nodes.values())
    resolveGateways(graph, node, `topology.nodes.${node.name}.labels`, issues);
  if (issues.list.length > 0) return undefined;
  checkPasswords(graph, issues);
  if (issues.list.length > 0) return undefined;
  return {
    name: name as string,
    nodes: [...nodes.values()].sort((x, y) => x.name.localeCompare(y.name)),
    links,
  };
}

/** A BGP session has one password: both ends may carry the label only if it is the same. */
function checkPasswords(graph: Pick<Topology, 'nodes' | 'links'>, issues: Issues): void {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const node of graph.nodes) {
    if (!node.password || !node.asn) continue;
    for (const n of bgpNeighbors(graph, node)) {
      const peer = byName.get(n.peerNode);
      if (!peer?.password || peer.password === node.password || peer.name < node.name) continue;
      issues.add(
        `topology.nodes.${peer.name}.labels["${LABEL.bgpPassword}"]`,
        `differs from ${node.name}'s, and they have a BGP session: one session, one password`,
      );
    }
  }
}
