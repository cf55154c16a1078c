// CNI benchmark: ADD and DEL latency of the real plugin executable + agent, against the
// reference plugins ptp + host-local (Debian's containernetworking-plugins) measured in the same
// run on the same node namespace, interleaved so both see the same machine; then 100
// concurrent ADDs on one node; then plugin start-up (VERSION) against `node -e 0` and ptp.
// Every plugin run goes through the same `nsenter --net=<node>` wrapper, so neither side pays
// for something the other does not. NODE_EXTRA_CA_CERTS is not passed (it slows node starts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubernetesDatastore } from '../datastore/index.js';
import { addNetns, deleteNetns, run } from '../kernel/index.js';
import { cniEnv, PLUGIN } from '../lab/cni-runner.js';
import { controlPlaneDown, controlPlaneUp } from '../lab/control-plane/index.js';
import { duplicatesIn } from '../test/ipam-fixtures.js';
import { TestNode } from '../test/node-fixture.js';
import { publish } from './results.js';
import { quantile, round } from './stats.js';

const say = (m: string) => process.stderr.write(`bench cni: ${m}\n`);
const PODS = Number(process.env.BENCH_CNI_PODS ?? 100);
const REF_DIR = '/usr/lib/cni';
const POOL = '10.244.0.0/18';
const REF_SUBNET = '10.244.192.0/20';

interface Timed {
  ms: number;
  stdout: string;
}

async function timedPlugin(
  nodeNetns: string,
  plugin: string,
  env: NodeJS.ProcessEnv,
  conf: object,
): Promise<Timed> {
  const t = performance.now();
  const { stdout } = await run(['nsenter', `--net=/run/netns/${nodeNetns}`, '--', plugin], {
    env,
    input: JSON.stringify(conf),
    timeoutMs: 60_000,
  });
  return { ms: performance.now() - t, stdout };
}

async function startupMs(argv: string[], input: string): Promise<number> {
  const env = cniEnv({ command: 'VERSION' });
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await run(argv, { env, input });
    samples.push(performance.now() - t);
  }
  return quantile(samples, 0.5);
}

async function main(): Promise<void> {
  const name = `bench-cni-${process.pid}`;
  say('starting a local control plane');
  const cp = await controlPlaneUp({ name });
  const ds = kubernetesDatastore(cp.kubeconfig);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cni-'));
  let node: TestNode | undefined;
  const podNs: string[] = [];
  try {
    await ds.ipPools.create({ metadata: { name: 'bench' }, spec: { cidr: POOL } });
    node = await TestNode.start({
      prefix: 'tbyb',
      kubeconfig: cp.kubeconfig,
      apiSocket: cp.apiSocket,
      pool: 'bench',
    });
    const tabbyConf = node.netconf('1.0.0');
    const refConf = {
      cniVersion: '1.0.0',
      name: 'ref',
      type: 'ptp',
      ipMasq: false,
      ipam: { type: 'host-local', subnet: REF_SUBNET, dataDir },
    };

    say(`${PODS} pods each: tabby and ptp+host-local, interleaved`);
    const lat = { add: [] as number[], del: [] as number[], refAdd: [] as number[], refDel: [] as number[] };
    for (let i = 0; i < PODS + 5; i++) {
      for (const ref of [false, true]) {
        const pod = `${node.name}-${ref ? 'r' : 't'}${i}`;
        await addNetns(pod);
        podNs.push(pod);
        const env = cniEnv({
          command: 'ADD',
          containerId: `bench-${ref ? 'r' : 't'}${i}`,
          netns: `/run/netns/${pod}`,
          ifname: 'eth0',
          args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=p${i}`,
          path: REF_DIR,
        });
        const plugin = ref ? `${REF_DIR}/ptp` : PLUGIN;
        const conf = ref ? refConf : tabbyConf;
        const a = await timedPlugin(node.netns, plugin, env, conf);
        const d = await timedPlugin(
          node.netns,
          plugin,
          { ...env, CNI_COMMAND: 'DEL' },
          { ...conf, prevResult: JSON.parse(a.stdout) },
        );
        await deleteNetns(pod);
        podNs.pop();
        if (i < 5) continue; // warm-up
        (ref ? lat.refAdd : lat.add).push(a.ms);
        (ref ? lat.refDel : lat.del).push(d.ms);
      }
    }

    say('100 concurrent ADDs on one node');
    const burstPods = Array.from({ length: 100 }, (_, i) => `${node?.name}-c${i}`);
    for (const p of burstPods) {
      await addNetns(p);
      podNs.push(p);
    }
    const started = performance.now();
    const results = await Promise.all(
      burstPods.map((p, i) =>
        timedPlugin(
          (node as TestNode).netns,
          PLUGIN,
          cniEnv({ command: 'ADD', containerId: `burst-${i}`, netns: `/run/netns/${p}`, ifname: 'eth0' }),
          tabbyConf,
        ),
      ),
    );
    const burstMs = performance.now() - started;
    const addresses = results.map(
      (r) => (JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]?.address ?? '',
    );
    await Promise.all(
      burstPods.map((p, i) =>
        timedPlugin(
          (node as TestNode).netns,
          PLUGIN,
          cniEnv({ command: 'DEL', containerId: `burst-${i}`, netns: `/run/netns/${p}`, ifname: 'eth0' }),
          tabbyConf,
        ),
      ),
    );

    say('start-up: VERSION');
    const version = JSON.stringify({ cniVersion: '1.0.0' });
    const pluginStart = await startupMs([PLUGIN], version);
    const refStart = await startupMs([`${REF_DIR}/ptp`], version);
    const nodeStart = await startupMs([process.execPath, '-e', '0'], '');

    const p50 = (xs: number[]) => round(quantile(xs, 0.5));
    const p95 = (xs: number[]) => round(quantile(xs, 0.95));
    publish('cni', {
      pods: PODS,
      add_p50_ms: p50(lat.add),
      add_p95_ms: p95(lat.add),
      del_p50_ms: p50(lat.del),
      del_p95_ms: p95(lat.del),
      ref_add_p50_ms: p50(lat.refAdd),
      ref_add_p95_ms: p95(lat.refAdd),
      ref_del_p50_ms: p50(lat.refDel),
      ref_del_p95_ms: p95(lat.refDel),
      add_ratio: round(quantile(lat.add, 0.5) / quantile(lat.refAdd, 0.5)),
      del_ratio: round(quantile(lat.del, 0.5) / quantile(lat.refDel, 0.5)),
      add_target_ratio: 2.0,
      del_target_ratio: 1.3,
      burst100_ms: round(burstMs),
      burst100_target_ms: 5000,
      duplicates: duplicatesIn(addresses),
      plugin_start_p50_ms: round(pluginStart),
      ref_start_p50_ms: round(refStart),
      node_start_p50_ms: round(nodeStart),
      start_ratio_vs_ref: round(pluginStart / refStart),
    });
  } finally {
    for (const p of podNs) await deleteNetns(p).catch(() => {});
    await node?.close();
    await ds.close();
    rmSync(dataDir, { recursive: true, force: true });
    await controlPlaneDown(name);
  }
}

await main();
