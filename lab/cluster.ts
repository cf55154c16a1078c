// tabby on a lab that is up: for each server node, a Kubernetes Node object (there is no
// kubelet), node-scoped BGPPeers toward its routers, and a tabby agent running in the server's
// namespace against the lab's control plane. `stop()` undoes all of it.
//
//   const cluster = await startCluster({ lab: name, topology, controlPlane: { kubeconfig, apiSocket },
//                                        namePrefix: 'ab12-', agentArgs: ['--log-level', 'debug'] });
//   await waitForBgp(name, 60_000, { servers: true });   // router↔server sessions Established
//   ...
//   await cluster.stop();
//
// IP pools are the caller's (`ds.ipPools.create(...)`, as the other integration tests do); the
// agents start without one. BGPPeers are written as raw custom objects (tabby.dev/v1alpha1,
// cluster-scoped), so this harness does not depend on the datastore's BGP collections.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Node, type V1Secret } from '@kubernetes/client-node';
import { GROUP, KINDS, NODE_BGP_ANNOTATIONS, VERSION } from '../datastore/resources.js';
import { netnsPids, refFor, terminate } from '../kernel/index.js';
import { type AgentProcess, startAgentProcess } from './agent-process.js';
import { LabError } from './errors.js';
import { readState } from './state.js';
import { bgpNeighbors } from './topology/neighbors.js';
import { netnsName } from './topology/plan.js';
import type { LabNode, Topology } from './topology/types.js';

export const BGP_PEER_RESOURCE = { group: GROUP, version: VERSION, ...KINDS.bgpPeers } as const;

/** Labels and annotations on the Node objects the harness creates. */
export const NODE_LABEL = { hostname: 'kubernetes.io/hostname', rack: 'tabby.dev/rack' } as const;
export const NODE_ANNOTATION = { asn: NODE_BGP_ANNOTATIONS.asn, ipv4: NODE_BGP_ANNOTATIONS.ipv4 } as const;
/** Every object the harness creates carries this label (value: the lab's name). */
export const LAB_LABEL = 'tabby.dev/lab';
/** Where the agent may read Secrets (deploy/rbac.yaml). */
export const DEFAULT_SECRET_NAMESPACE = 'tabby-system';
/** Key of the password in the Secret a BGPPeer's `password` names. */
export const PASSWORD_KEY = 'password';

export interface BgpPeerSpec {
  node: string;
  peerIP: string;
  asNumber: number;
  password?: { namespace: string; name: string; key: string };
}

export interface ClusterNodePlan {
  /** The lab node (e.g. `node1`). */
  labNode: string;
  /** The Kubernetes Node name: `<namePrefix><labNode>`. */
  name: string;
  netns: string;
  asn?: number;
  /** The server's first link IPv4 address: its BGP address (`--node-ip`). */
  ipv4: string;
  /** The router or bridge its first link goes to. */
  rack: string;
  node: V1Node;
}

export interface BgpPeerPlan {
  name: string;
  /** The lab router at the other end. */
  router: string;
  spec: BgpPeerSpec;
  /** The password, when the session has one: stored in a Secret named like the BGPPeer. */
  password?: string;
}

export interface ClusterPlan {
  nodes: ClusterNodePlan[];
  peers: BgpPeerPlan[];
}

export interface ClusterPlanOptions {
  /** Lab name (namespaces, the `tabby.dev/lab` label); default the topology's. */
  lab?: string;
  /** Prefix of every object name, so tests sharing one API server do not collide. */
  namePrefix?: string;
  /** Server nodes to include; default every `role: node`. */
  nodes?: string[];
  /** Namespace of the BGP password Secrets (created when missing); default `tabby-system`. */
  secretNamespace?: string;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** What `startCluster` creates, from the topology alone. Pure. */
export function planCluster(topology: Topology, o: ClusterPlanOptions = {}): ClusterPlan {
  const lab = o.lab ?? topology.name;
  const prefix = o.namePrefix ?? '';
  const servers = topology.nodes.filter((n) => n.role === 'node');
  for (const want of o.nodes ?? []) {
    if (!servers.some((s) => s.name === want))
      throw new LabError(
        `cluster: "${want}" is not a server node of ${lab} (servers: ${servers.map((s) => s.name).join(', ')})`,
      );
  }
  const chosen = o.nodes ? servers.filter((s) => o.nodes?.includes(s.name)) : servers;
  const byName = new Map(topology.nodes.map((n) => [n.name, n]));
  const nodes: ClusterNodePlan[] = [];
  const peers: BgpPeerPlan[] = [];
  for (const s of chosen) {
    const name = `${prefix}${s.name}`;
    if (!K8S_NAME.test(name) || name.length > 63)
      throw new LabError(`cluster: "${name}" is not a valid Node name (namePrefix "${prefix}")`);
    const ipv4 = firstAddress(s);
    const rack = s.interfaces[0]?.peerNode ?? '';
    nodes.push({
      labNode: s.name,
      name,
      netns: netnsName(lab, s.name),
      asn: s.asn,
      ipv4,
      rack,
      node: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: { [NODE_LABEL.hostname]: name, [NODE_LABEL.rack]: rack, [LAB_LABEL]: lab },
          annotations: {
            ...(s.asn !== undefined && { [NODE_ANNOTATION.asn]: String(s.asn) }),
            [NODE_ANNOTATION.ipv4]: ipv4,
          },
        },
        // What a kubelet would report; the API server keeps status given at create.
        status: {
          addresses: [
            { type: 'InternalIP', address: ipv4 },
            { type: 'Hostname', address: name },
          ],
        },
      },
    });
    if (s.asn === undefined) continue;
    const used = new Set<string>();
    for (const n of bgpNeighbors(topology, s)) {
      if (byName.get(n.peerNode)?.role !== 'router') continue; // the mesh is tabby's business
      let peerName = `${name}-${n.peerNode}${n.family === 6 ? '-v6' : ''}`;
      if (used.has(peerName))
        peerName = `${peerName}-${n.interface.toLowerCase().replace(/[^a-z0-9]/g, '-')}`;
      used.add(peerName);
      const secretNamespace = o.secretNamespace ?? DEFAULT_SECRET_NAMESPACE;
      peers.push({
        name: peerName,
        router: n.peerNode,
        spec: {
          node: name,
          peerIP: n.address,
          asNumber: n.remoteAs,
          ...(n.password && { password: { namespace: secretNamespace, name: peerName, key: PASSWORD_KEY } }),
        },
        ...(n.password && { password: n.password }),
      });
    }
  }
  return { nodes, peers };
}

function firstAddress(n: LabNode): string {
  const a = n.interfaces.flatMap((i) => i.addresses).find((x) => x.family === 4);
  if (!a) throw new LabError(`cluster: server ${n.name} has no IPv4 link address to run BGP from`);
  return a.address;
}

export interface ClusterOptions extends ClusterPlanOptions {
  /** The lab, up (`lab up` / labUp with this name). */
  lab: string;
  /** Its topology, as parsed for `lab up` (with the same name). */
  topology: Topology;
  /** The control plane (test/global-setup.ts provides both). */
  controlPlane: { kubeconfig: string; apiSocket: string };
  /** More agent flags after `--bgp-mode spawn --node-ip ADDR`: for every node, or per node. */
  agentArgs?: string[] | ((n: ClusterNodePlan) => string[]);
  /** Create the objects but start no agent (start them with `startAgent`). Default true. */
  startAgents?: boolean;
  readyTimeoutMs?: number;
}

export interface ClusterNode extends ClusterNodePlan {
  /** The agent's CNI socket and log (in the lab's work dir, under the lab node's name). */
  socket: string;
  logFile: string;
  /** The running agent, if any. */
  agent?: AgentProcess;
}

export interface LabCluster {
  readonly nodes: ClusterNode[];
  readonly peers: BgpPeerPlan[];
  /** A node by its lab name (`node1`). */
  node(labNode: string): ClusterNode;
  /** Starts (or restarts) the agent of one node. */
  startAgent(labNode: string): Promise<AgentProcess>;
  /** Stops the agent of one node (SIGTERM; `kill` for SIGKILL, a crash). */
  stopAgent(labNode: string, how?: 'stop' | 'kill'): Promise<void>;
  /** Stops every agent (and anything they left in the servers' namespaces), deletes the objects. */
  stop(): Promise<void>;
}

const statusCode = (e: unknown): number | undefined => (e as { code?: number }).code;
const ignoreNotFound = (e: unknown) => {
  if (statusCode(e) !== 404) throw e;
};

/** Brings tabby up on the lab's server nodes. On failure, removes what it created and rethrows. */
export async function startCluster(o: ClusterOptions): Promise<LabCluster> {
  const state = readState(o.lab);
  if (state?.phase !== 'up') throw new LabError(`cluster: lab "${o.lab}" is not up`);
  if (o.topology.name !== o.lab)
    throw new LabError(`cluster: the topology is named "${o.topology.name}", the lab "${o.lab}"`);
  const plan = planCluster(o.topology, o);
  const kc = new KubeConfig();
  kc.loadFromFile(o.controlPlane.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural, kind } = BGP_PEER_RESOURCE;

  const created = { nodes: [] as string[], peers: [] as string[], secrets: [] as [string, string][] };
  const nodes: ClusterNode[] = plan.nodes.map((n) => {
    const dir = join(state.workDir, n.labNode);
    return { ...n, socket: join(dir, 'cni.sock'), logFile: join(dir, 'agent.log') };
  });
  const find = (labNode: string): ClusterNode => {
    const n = nodes.find((x) => x.labNode === labNode);
    if (!n)
      throw new LabError(`cluster: no node "${labNode}" (nodes: ${nodes.map((x) => x.labNode).join(', ')})`);
    return n;
  };

  const startAgent = async (labNode: string): Promise<AgentProcess> => {
    const n = find(labNode);
    await n.agent?.stop();
    mkdirSync(join(n.socket, '..'), { recursive: true });
    const extra = typeof o.agentArgs === 'function' ? o.agentArgs(n) : (o.agentArgs ?? []);
    n.agent = await startAgentProcess({
      netns: n.netns,
      nodeName: n.name,
      kubeconfig: o.controlPlane.kubeconfig,
      apiSocket: o.controlPlane.apiSocket,
      socket: n.socket,
      logFile: n.logFile,
      args: ['--bgp-mode', 'spawn', '--node-ip', n.ipv4, ...extra],
      readyTimeoutMs: o.readyTimeoutMs,
    });
    return n.agent;
  };

  const stopAgent = async (labNode: string, how: 'stop' | 'kill' = 'stop'): Promise<void> => {
    const n = find(labNode);
    const agent = n.agent;
    n.agent = undefined;
    if (agent) await (how === 'kill' ? agent.kill() : agent.stop());
  };

  const stop = async (): Promise<void> => {
    const failures: string[] = [];
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message}`);
      }
    };
    await Promise.all(nodes.map((n) => step(`stop agent ${n.name}`, () => stopAgent(n.labNode))));
    // What the agents spawned (gobgpd) and a killed agent may have left running.
    for (const n of nodes) {
      await step(`stop processes in ${n.netns}`, async () => {
        await terminate((await netnsPids(n.netns)).map((pid) => refFor(pid)));
      });
      rmSync(n.socket, { force: true });
    }
    for (const name of created.peers.splice(0))
      await step(`delete BGPPeer ${name}`, () =>
        custom.deleteClusterCustomObject({ group, version, plural, name }).catch(ignoreNotFound),
      );
    for (const [namespace, name] of created.secrets.splice(0))
      await step(`delete Secret ${namespace}/${name}`, () =>
        core.deleteNamespacedSecret({ namespace, name }).catch(ignoreNotFound),
      );
    for (const name of created.nodes.splice(0))
      await step(`delete Node ${name}`, () => core.deleteNode({ name }).catch(ignoreNotFound));
    if (failures.length > 0) throw new LabError(`cluster: stop was incomplete:\n  ${failures.join('\n  ')}`);
  };

  const cluster: LabCluster = { nodes, peers: plan.peers, node: find, startAgent, stopAgent, stop };
  const labels = { [LAB_LABEL]: o.lab };
  try {
    for (const n of plan.nodes) {
      await core.createNode({ body: n.node }).catch((e: unknown) => {
        if (statusCode(e) === 409)
          throw new LabError(`cluster: Node ${n.name} already exists: use another namePrefix`);
        throw e;
      });
      created.nodes.push(n.name);
    }
    for (const p of plan.peers) {
      if (p.password !== undefined && p.spec.password) {
        const { namespace, name, key } = p.spec.password;
        await core.createNamespace({ body: { metadata: { name: namespace } } }).catch((e: unknown) => {
          if (statusCode(e) !== 409) throw e; // there already (it is left there: others may share it)
        });
        const body: V1Secret = { metadata: { name, namespace, labels }, stringData: { [key]: p.password } };
        await core.createNamespacedSecret({ namespace, body });
        created.secrets.push([namespace, name]);
      }
      await custom.createClusterCustomObject({
        group,
        version,
        plural,
        body: { apiVersion: `${group}/${version}`, kind, metadata: { name: p.name, labels }, spec: p.spec },
      });
      created.peers.push(p.name);
    }
    if (o.startAgents ?? true) {
      // All settled before any cleanup: no agent may still be starting while stop() runs.
      const results = await Promise.allSettled(nodes.map((n) => startAgent(n.labNode)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return cluster;
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
