// `lab render`: a containerlab-ready copy of a topology. Adds, from tabby's labels, what real
// containerlab needs: FRR or BIRD configs bound into router containers, and address/route
// commands (`exec`) for server nodes and BIRD routers (BIRD sets no addresses). `kind: bridge`
// nodes stay as they are: containerlab expects a host bridge of that name to exist before deploy.
// Pure except for writing the files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { formatInterfaceAddress } from '../common/addr.js';
import { renderBirdConf } from './topology/bird-config.js';
import { renderFrrDaemons, renderIntegratedFrrConf } from './topology/frr-config.js';
import type { LabNode, Topology } from './topology/types.js';

/** Commands containerlab runs in a server node after deploy (`exec:`). */
export function nodeExecCommands(node: LabNode): string[] {
  const cmds: string[] = [];
  for (const lo of node.loopbacks) cmds.push(`ip address add ${formatInterfaceAddress(lo)} dev lo`);
  for (const iface of node.interfaces) {
    for (const a of iface.addresses)
      cmds.push(`ip address add ${formatInterfaceAddress(a)} dev ${iface.name}`);
    cmds.push(`ip link set ${iface.name} up`);
  }
  if (node.gateway4) cmds.push(`ip route replace default via ${node.gateway4}`);
  if (node.gateway6) cmds.push(`ip -6 route replace default via ${node.gateway6}`);
  return cmds;
}

export interface RenderedFile {
  path: string;
  content: string;
}

/** The files of a containerlab-ready directory for `topology`, from the original file text. */
export function renderContainerlab(sourceText: string, topology: Topology): RenderedFile[] {
  const doc = parseDocument(sourceText);
  const files: RenderedFile[] = [];
  for (const node of topology.nodes) {
    const at = ['topology', 'nodes', node.name];
    if (node.role === 'bridge') {
      const entry = doc.getIn(at, true) as { commentBefore?: string | null } | undefined;
      if (entry)
        entry.commentBefore = ` containerlab: create the host bridge first: ip link add ${node.name} type bridge && ip link set ${node.name} up`;
    } else if (node.role === 'router' && node.daemon === 'bird') {
      files.push({ path: join(node.name, 'bird.conf'), content: renderBirdConf(topology, node) });
      doc.setIn([...at, 'binds'], [`${node.name}/bird.conf:/etc/bird/bird.conf`]);
      doc.setIn([...at, 'exec'], ['sysctl -w net.ipv4.ip_forward=1', ...nodeExecCommands(node)]);
    } else if (node.role === 'router') {
      files.push({ path: join(node.name, 'frr.conf'), content: renderIntegratedFrrConf(topology, node) });
      files.push({ path: join(node.name, 'daemons'), content: renderFrrDaemons() });
      doc.setIn(
        [...at, 'binds'],
        [`${node.name}/frr.conf:/etc/frr/frr.conf`, `${node.name}/daemons:/etc/frr/daemons`],
      );
    } else {
      doc.setIn([...at, 'exec'], nodeExecCommands(node));
    }
  }
  if (topology.name !== doc.get('name')) doc.set('name', topology.name);
  files.unshift({ path: `${topology.name}.clab.yml`, content: doc.toString() });
  return files;
}

export function writeRendered(dir: string, files: RenderedFile[]): void {
  for (const f of files) {
    const path = join(dir, f.path);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, f.content);
  }
}
