// A lab node for integration tests and benchmarks: the node's namespace with an uplink (a veth
// to a second namespace holding its default route, which proxy ARP for 169.254.1.1 needs), a
// tabby agent running inside it against the shared API server, pod namespaces on demand, and
// the real plugin executable to drive. `close()` removes everything, agent included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, createVethPair, deleteNetns, ipBatch, runInNetns, setSysctls } from '../kernel/index.js';
import { type AgentProcess, startAgentProcess } from '../lab/agent-process.js';
import { type CniEnv, type CniOutcome, runCni } from '../lab/cni-runner.js';
import { uniqueName } from './helpers.js';

export interface NodeFixtureOptions {
  /** Namespace and node name prefix (≤ 5 chars), owned by the calling test. */
  prefix: string;
  kubeconfig: string;
  apiSocket: string;
  /** IP pool name the network config asks for. */
  pool: string;
  /** Uplink /30's first address (the node gets .1, the uplink .2); default 198.18.250.0. */
  uplink?: string;
  agentArgs?: string[];
}

export class TestNode {
  readonly agentLog: string;
  readonly socket: string;
  agent!: AgentProcess;
  private readonly pods = new Set<string>();

  private constructor(
    readonly name: string,
    readonly netns: string,
    readonly uplinkNetns: string,
    readonly dir: string,
    private readonly o: NodeFixtureOptions,
  ) {
    this.agentLog = join(dir, 'agent.log');
    this.socket = join(dir, 'cni.sock');
  }

  static async start(o: NodeFixtureOptions): Promise<TestNode> {
    const name = uniqueName(o.prefix);
    const dir = mkdtempSync(join(tmpdir(), `${name}-`));
    const node = new TestNode(name, name, `${name}-up`, dir, o);
    try {
      await node.build();
      await node.startAgent();
      return node;
    } catch (e) {
      await node.close();
      throw e;
    }
  }

  private async build(): Promise<void> {
    const base = (this.o.uplink ?? '198.18.250.0').split('.').map(Number);
    const at = (n: number) => [...base.slice(0, 3), (base[3] ?? 0) + n].join('.');
    await addNetns(this.netns);
    await addNetns(this.uplinkNetns);
    await createVethPair({ netns: this.netns, name: 'eth0' }, { netns: this.uplinkNetns, name: 'eth0' });
    await ipBatch(this.netns, [
      { op: 'addr-add', dev: 'eth0', family: 4, address: at(1), prefixLength: 30 },
      { op: 'link-up', dev: 'eth0' },
      { op: 'route-add', family: 4, dst: 'default', via: at(2) },
    ]);
    await ipBatch(this.uplinkNetns, [
      { op: 'addr-add', dev: 'eth0', family: 4, address: at(2), prefixLength: 30 },
      { op: 'link-up', dev: 'eth0' },
    ]);
  }

  async startAgent(): Promise<void> {
    this.agent = await startAgentProcess({
      netns: this.netns,
      nodeName: this.name,
      kubeconfig: this.o.kubeconfig,
      apiSocket: this.o.apiSocket,
      socket: this.socket,
      logFile: this.agentLog,
      // Single-node tests route nothing over BGP (a later --bgp-mode in agentArgs wins).
      args: ['--bgp-mode', 'off', ...(this.o.agentArgs ?? [])],
    });
  }

  /** A fresh, empty pod namespace (lo up); returns its path. */
  async addPod(suffix: string): Promise<{ name: string; path: string }> {
    const name = `${this.name}-${suffix}`;
    await addNetns(name);
    this.pods.add(name);
    return { name, path: `/run/netns/${name}` };
  }

  async removePod(name: string): Promise<void> {
    this.pods.delete(name);
    await deleteNetns(name);
  }

  /** The plugin's network config for this node (one plugin object, runtime-injected fields set). */
  netconf(cniVersion = '1.0.0', extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion,
      name: 'tabby-it',
      type: 'tabby',
      agentSocket: this.socket,
      ipam: { pools: [this.o.pool] },
      ...extra,
    };
  }

  cni(env: CniEnv, conf: Record<string, unknown> | string = this.netconf()): Promise<CniOutcome> {
    return runCni(env, conf);
  }

  /** Runs a command in one of this node's namespaces (node, uplink or a pod). */
  exec(netns: string, argv: string[], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
    return runInNetns(netns, argv, { timeoutMs });
  }

  async sysctl(values: Record<string, string | number>): Promise<void> {
    await setSysctls(this.netns, values);
  }

  async close(): Promise<void> {
    await this.agent?.stop().catch(() => {});
    for (const p of this.pods) await deleteNetns(p).catch(() => {});
    this.pods.clear();
    await deleteNetns(this.uplinkNetns).catch(() => {});
    await deleteNetns(this.netns).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
