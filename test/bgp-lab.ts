// tabby on a whole lab for the BGP tests: a topology from lab/topologies brought up under a
// unique name, an IP pool of the test's own, a Node + agent + gobgpd per server (lab/cluster.ts),
// pods made through the real plugin executable, and helpers to look at routes and reachability.
// `down()` removes everything, even after a failed `up`.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cidrsOverlap, parseCidr } from '../common/addr.js';
import { repoPath } from '../common/paths.js';
import type { BGPConfigurationSpec, BGPPeerSpec, Datastore } from '../datastore/index.js';
import { BGP_CONFIGURATION_NAME, kubernetesDatastore } from '../datastore/index.js';
import {
  addNetns,
  deleteNetns,
  type KernelRoute,
  listProcesses,
  listRoutes,
  netnsPids,
  runInNetns,
  spawnStreaming,
} from '../kernel/index.js';
import { birdc } from '../lab/bird.js';
import { type LabCluster, startCluster } from '../lab/cluster.js';
import { type CniEnv, runCni } from '../lab/cni-runner.js';
import { vtyshJson } from '../lab/frr.js';
import { type PingResult, pingMatrix } from '../lab/ping-matrix.js';
import { labUp } from '../lab/runner.js';
import { readState } from '../lab/state.js';
import { waitForBgp } from '../lab/status.js';
import { labDown } from '../lab/teardown.js';
import { parseTopology } from '../lab/topology/parse.js';
import type { LabNode, Topology } from '../lab/topology/types.js';
import { uniqueName } from './helpers.js';
import { wipeIpam } from './ipam-fixtures.js';

export const TABBY_PROTOCOL = 201;

/** What every BGP test runs with (the BGPConfiguration is cluster-wide: keep them identical). */
export const TEST_BGP_CONFIGURATION: BGPConfigurationSpec = {
  nodeToNodeMeshEnabled: true,
  keepaliveTime: 3,
  holdTime: 9,
  connectRetryTime: 5,
  gracefulRestartTime: 120,
};

export interface BgpLabOptions {
  /** A file of lab/topologies without `.clab.yml`. */
  topology: string;
  /** Lab and object name prefix (≤ 4 chars). */
  prefix: string;
  pool: { name: string; cidr: string; blockSize?: number };
  /** Edits the topology text before parsing (passwords, labels). */
  edit?: (text: string) => string;
  agentArgs?: (n: LabNode) => string[];
  /** Merged into every BGPPeer the harness writes (before any agent starts). */
  peerSpec?: Partial<BGPPeerSpec>;
  /** Runs after the Nodes and BGPPeers exist, before any agent starts. */
  beforeAgents?: (lab: BgpLab) => Promise<void>;
  kubeconfig: string;
  apiSocket: string;
}

export interface LabPod {
  node: string;
  name: string;
  netns: string;
  containerId: string;
  ip: string;
  /** The pool its address came from. */
  pool?: string;
}

/** One of a gobgpd's neighbors: its address and session state (`established`, `active`...). */
export interface GobgpNeighbor {
  address: string;
  state: string;
}

/** The parts of `gobgp -j neighbor` read here (Go's encoding/json of apipb.Peer). */
interface GobgpCliPeer {
  conf?: { neighbor_address?: string };
  state?: { neighbor_address?: string; session_state?: number | string };
}

const SESSION_STATES = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];

/** apipb.PeerState.SessionState (a number in the CLI's JSON, a name elsewhere) → lower-case name. */
function sessionStateName(s: number | string | undefined): string {
  if (typeof s === 'number') return SESSION_STATES[s] ?? String(s);
  return (s ?? 'unknown').toLowerCase().replace(/^session_state_/, '');
}

export interface PingStats {
  /** What ping's summary says. */
  transmitted: number;
  received: number;
  /** Distinct sequence numbers answered. */
  answered: number;
  /** Sequence numbers never answered, but for the last one sent (it may have been in flight). */
  lost: number[];
  /** ping's lines other than replies (its summary). */
  summary: string;
}

export interface RunningPing {
  /** Replies so far. */
  answered(): number;
  /** Stops ping (SIGINT) and reports. */
  stop(): Promise<PingStats>;
}

export class BgpLab {
  cluster!: LabCluster;
  readonly pods: LabPod[] = [];
  private labIsUp = false;

  private constructor(
    readonly name: string,
    readonly topology: Topology,
    readonly ds: Datastore,
    private readonly o: BgpLabOptions,
  ) {}

  static async up(o: BgpLabOptions): Promise<BgpLab> {
    const file = repoPath(`lab/topologies/${o.topology}.clab.yml`);
    const name = uniqueName(o.prefix);
    const text = (o.edit ?? ((t) => t))(readFileSync(file, 'utf8'));
    const topology = parseTopology(text, { name, source: file });
    const lab = new BgpLab(name, topology, kubernetesDatastore(o.kubeconfig), o);
    try {
      await lab.start(file);
      return lab;
    } catch (e) {
      await lab.down();
      throw e;
    }
  }

  private async start(file: string): Promise<void> {
    await setBgpConfiguration(this.ds);
    await this.ds.ipPools.delete(this.o.pool.name).catch(() => {});
    await this.ds.ipPools.create({
      metadata: { name: this.o.pool.name },
      spec: { cidr: this.o.pool.cidr, blockSize: this.o.pool.blockSize },
    });
    this.labIsUp = true;
    await labUp(this.topology, { topologyFile: file });
    this.cluster = await startCluster({
      lab: this.name,
      topology: this.topology,
      controlPlane: { kubeconfig: this.o.kubeconfig, apiSocket: this.o.apiSocket },
      namePrefix: `${this.name}-`,
      agentArgs: (n) => {
        const node = this.topology.nodes.find((x) => x.name === n.labNode);
        return ['--resync-interval', '10', ...(node && this.o.agentArgs ? this.o.agentArgs(node) : [])];
      },
      startAgents: false,
    });
    if (this.o.peerSpec) {
      for (const p of this.cluster.peers) {
        const peer = await this.ds.bgpPeers.get(p.name);
        if (peer) await this.ds.bgpPeers.update({ ...peer, spec: { ...peer.spec, ...this.o.peerSpec } });
      }
    }
    await this.o.beforeAgents?.(this);
    await Promise.all(this.cluster.nodes.map((n) => this.cluster.startAgent(n.labNode)));
    await waitForBgp(this.name, 60_000);
  }

  /** Kubernetes Node name of a lab server. */
  nodeName(labNode: string): string {
    return this.cluster.node(labNode).name;
  }

  netns(labNode: string): string {
    return this.cluster.node(labNode).netns;
  }

  /** A pod on `labNode`, wired by the real plugin through that node's agent. */
  async addPod(labNode: string, pod: string, pool = this.o.pool.name): Promise<LabPod> {
    const node = this.cluster.node(labNode);
    const netns = `${this.name}-${pod}`;
    await addNetns(netns);
    const containerId = `cid-${netns}`;
    const rec: LabPod = { node: labNode, name: pod, netns, containerId, ip: '', pool };
    this.pods.push(rec);
    const out = await runCni(this.cniEnv('ADD', rec), this.netconf(node.socket, pool));
    if (out.exitCode !== 0) throw new Error(`ADD ${pod} on ${labNode} failed: ${out.stdout}${out.stderr}`);
    const result = out.json as { ips: { address: string }[] };
    rec.ip = (result.ips[0]?.address ?? '').split('/')[0] as string;
    return rec;
  }

  /** DEL of a pod made by addPod, through the real plugin; then its namespace goes. */
  async delPod(pod: LabPod): Promise<void> {
    const node = this.cluster.node(pod.node);
    const out = await runCni(
      this.cniEnv('DEL', pod),
      this.netconf(node.socket, pod.pool ?? this.o.pool.name),
    );
    if (out.exitCode !== 0)
      throw new Error(`DEL ${pod.name} on ${pod.node} failed: ${out.stdout}${out.stderr}`);
    await deleteNetns(pod.netns);
    const i = this.pods.indexOf(pod);
    if (i >= 0) this.pods.splice(i, 1);
  }

  private cniEnv(command: 'ADD' | 'DEL', pod: LabPod): CniEnv {
    return {
      command,
      containerId: pod.containerId,
      netns: `/run/netns/${pod.netns}`,
      ifname: 'eth0',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name}`,
    };
  }

  private netconf(agentSocket: string, pool: string): object {
    return { cniVersion: '1.0.0', name: 'tabby-bgp-it', type: 'tabby', agentSocket, ipam: { pools: [pool] } };
  }

  /** Every pod pings every other pod once. */
  pingPods(pods: readonly LabPod[] = this.pods): Promise<PingResult[]> {
    return pingMatrix(
      pods.map((p) => ({ label: p.name, netns: p.netns })),
      pods.map((p) => ({ label: p.name, address: p.ip })),
    );
  }

  /** The pod×pod matrix until every pair answers (routes converge), or the last attempt's. */
  async pingUntilAll(timeoutMs = 30_000, pods: readonly LabPod[] = this.pods): Promise<PingResult[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const results = (await this.pingPods(pods)).filter((r) => r.from !== r.to);
      if (results.every((r) => r.ok) || Date.now() > deadline) return results;
      await sleep(500);
    }
  }

  /** tabby's routes in a server's kernel. */
  routes(labNode: string): Promise<KernelRoute[]> {
    return listRoutes(this.netns(labNode), { protocol: TABBY_PROTOCOL });
  }

  /** tabby's gateway routes (learned over BGP): `dst → sorted next hops`. */
  async learned(labNode: string): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const r of await this.routes(labNode)) {
      if (r.nexthops?.length) out.set(r.dst, r.nexthops.map((h) => h.via).sort());
    }
    return out;
  }

  /** Blocks affine to a server (its exports). */
  async blocksOf(labNode: string): Promise<string[]> {
    const name = this.nodeName(labNode);
    const { items } = await this.ds.blockAffinities.list();
    return items
      .filter((a) => a.spec.node === name && a.spec.state === 'confirmed')
      .map((a) => a.spec.cidr)
      .sort();
  }

  /** IPv4 prefixes in a lab router's BGP table (FRR or BIRD), inside `within` when given. */
  async routerPrefixes(router: string, within?: string): Promise<string[]> {
    const runDir = readState(this.name)?.nodes.find((n) => n.node === router)?.runDir;
    if (!runDir) throw new Error(`no router ${router} in lab ${this.name}`);
    const daemon = this.topology.nodes.find((n) => n.name === router)?.daemon ?? 'frr';
    let prefixes: string[];
    if (daemon === 'bird') {
      const text = await birdc(runDir, ['show', 'route', 'table', 'master4']);
      prefixes = [...text.matchAll(/^(\d+\.\d+\.\d+\.\d+\/\d+)\s/gm)].map((m) => m[1] as string);
    } else {
      const json = await vtyshJson<{ routes?: Record<string, unknown> }>(
        runDir,
        'show bgp ipv4 unicast json',
      );
      prefixes = Object.keys(json.routes ?? {});
    }
    const inside = within ? parseCidr(within) : undefined;
    return prefixes.filter((p) => !inside || cidrsOverlap(parseCidr(p), inside)).sort();
  }

  exec(netns: string, argv: string[], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
    return runInNetns(netns, argv, { timeoutMs });
  }

  /** Debian's gobgp CLI against a server's gobgpd (JSON output). */
  async gobgp<T>(labNode: string, args: string[]): Promise<T> {
    // the CLI's defaults are the sidecar's API: 127.0.0.1:50051 (`--target` is for unix sockets)
    const { stdout } = await this.exec(this.netns(labNode), ['gobgp', '-j', ...args]);
    return JSON.parse(stdout) as T;
  }

  /** A server's BGP neighbors as its gobgpd lists them (`gobgp neighbor`), sorted by address. */
  async neighbors(labNode: string): Promise<GobgpNeighbor[]> {
    const peers = (await this.gobgp<GobgpCliPeer[] | null>(labNode, ['neighbor'])) ?? [];
    return peers
      .map((p) => ({
        address: p.state?.neighbor_address || p.conf?.neighbor_address || '',
        state: sessionStateName(p.state?.session_state),
      }))
      .sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
  }

  /** The pid of the gobgpd running in a server's namespace; undefined when there is none. */
  gobgpdPid(labNode: string): Promise<number | undefined> {
    return gobgpdPidIn(this.netns(labNode));
  }

  /**
   * A continuous ping (`ping -i intervalS`) from a pod to an address, until `stop()`, which
   * says which echo requests went unanswered.
   */
  startPing(from: LabPod, to: string, intervalS = 0.05): RunningPing {
    const answered = new Set<number>();
    const other: string[] = [];
    const child = spawnStreaming(
      ['ip', 'netns', 'exec', from.netns, 'ping', '-n', '-i', String(intervalS), to],
      {
        onStdoutLine: (l) => {
          const seq = /icmp_seq=(\d+) ttl=/.exec(l)?.[1];
          if (seq) answered.add(Number(seq));
          else if (l.trim()) other.push(l);
        },
        onStderrLine: (l) => other.push(l),
        onExit: () => {},
      },
    );
    return {
      answered: () => answered.size,
      async stop(): Promise<PingStats> {
        // `ip netns exec` execs ping in place: SIGINT makes ping print its summary and exit.
        if (child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGINT');
          } catch {
            // already gone
          }
        }
        const timer = setTimeout(() => void child.kill(0), 5_000);
        await child.exited;
        clearTimeout(timer);
        const summary = other.join('\n');
        const m = /(\d+) packets transmitted, (\d+) received/.exec(summary);
        const transmitted = Number(m?.[1] ?? 0);
        // Every request but the last sent (which SIGINT may have caught in flight) was answered?
        const upTo = Math.max(transmitted - 1, ...answered);
        const lost: number[] = [];
        for (let seq = 1; seq <= upTo; seq++) if (!answered.has(seq)) lost.push(seq);
        return {
          transmitted,
          received: Number(m?.[2] ?? 0),
          answered: answered.size,
          lost,
          summary,
        };
      },
    };
  }

  async down(): Promise<void> {
    if (this.cluster) await this.cluster.stop().catch(() => {});
    for (const p of this.pods) await deleteNetns(p.netns).catch(() => {});
    if (this.labIsUp) await labDown(this.name).catch(() => {});
    const nodes = this.cluster
      ? this.topology.nodes.filter((n) => n.role === 'node').map((n) => this.nodeName(n.name))
      : [];
    await wipeIpam(this.ds, { pool: this.o.pool.cidr, nodes }).catch(() => {});
    await this.ds.ipPools.delete(this.o.pool.name).catch(() => {});
    await this.ds.close();
  }
}

/** The pid of the gobgpd running in a namespace; undefined when there is none. */
export async function gobgpdPidIn(netns: string): Promise<number | undefined> {
  const pids = new Set(await netnsPids(netns));
  return listProcesses().find((p) => p.comm === 'gobgpd' && pids.has(p.pid))?.pid;
}

/**
 * Sets the shared BGPConfiguration to TEST_BGP_CONFIGURATION with `changes` (none: restores it).
 * Other files may run at once: change only what they do not depend on, and restore it.
 */
export async function setBgpConfiguration(
  ds: Datastore,
  changes: Partial<BGPConfigurationSpec> = {},
): Promise<void> {
  const spec = { ...TEST_BGP_CONFIGURATION, ...changes };
  for (let attempt = 0; ; attempt++) {
    const existing = await ds.bgpConfigurations.get(BGP_CONFIGURATION_NAME);
    try {
      if (!existing) await ds.bgpConfigurations.create({ metadata: { name: BGP_CONFIGURATION_NAME }, spec });
      else if (JSON.stringify(existing.spec) !== JSON.stringify(spec))
        await ds.bgpConfigurations.update({ ...existing, spec });
      return;
    } catch (e) {
      if (attempt >= 5) throw e;
      await sleep(100); // another file raced us
    }
  }
}

/** Polls `check` until it holds (returns its last value) or the timeout passes (throws with `what`). */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`${what}: not after ${timeoutMs} ms; last: ${JSON.stringify(last, replacer)}`);
    await sleep(everyMs);
  }
}

const replacer = (_k: string, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v);
