// IPAM burst benchmark against a real local kube-apiserver + etcd (its own control plane).
// Scenarios: 100 concurrent assigns on one node; 400 across 8 nodes (one agent each).
// Reference, measured in the same run: the same 100-on-one-node burst with group commit off
// (one batch per request, as a per-node-lock allocator would do it), and one API read.
import { type CountingDatastore, countingDatastore, kubernetesDatastore } from '../datastore/index.js';
import { checkIpam, Ipam, readSnapshot } from '../ipam/index.js';
import { controlPlaneDown, controlPlaneUp } from '../lab/control-plane/index.js';
import { duplicatesIn, wipeIpam } from '../test/ipam-fixtures.js';
import { publish } from './results.js';
import { quantile, round } from './stats.js';

const say = (m: string) => process.stderr.write(`bench ipam: ${m}\n`);

interface Burst {
  ms: number;
  writes: number;
  latencies: number[];
  addresses: string[];
}

async function burst(
  ds: CountingDatastore,
  agents: Ipam[],
  nodes: string[],
  perNode: number,
  tag: string,
): Promise<Burst> {
  ds.reset();
  const latencies: number[] = [];
  const start = performance.now();
  const results = await Promise.all(
    nodes.flatMap((node, n) =>
      Array.from({ length: perNode }, async (_, i) => {
        const t = performance.now();
        const r = await (agents[n] as Ipam).assign(`${tag}-${node}-${i}`, node, { v4: 1 });
        latencies.push(performance.now() - t);
        return r.addresses[0]?.address as string;
      }),
    ),
  );
  return { ms: performance.now() - start, writes: ds.writes(), latencies, addresses: results };
}

async function apiReadMs(ds: CountingDatastore): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await ds.ipamConfigs.get('default');
    samples.push(performance.now() - t);
  }
  return quantile(samples, 0.5);
}

async function main(): Promise<void> {
  const name = `bench-ipam-${process.pid}`;
  say('starting a local control plane');
  const cp = await controlPlaneUp({ name });
  const ds = countingDatastore(kubernetesDatastore(cp.kubeconfig));
  try {
    await wipeIpam(ds);
    await ds.ipPools.create({ metadata: { name: 'bench' }, spec: { cidr: '10.244.0.0/16' } });
    await ds.ipamConfigs.create({ metadata: { name: 'default' }, spec: {} });
    say('warming up');
    await burst(ds, [new Ipam(ds)], ['warmup'], 20, 'warm');
    const readMs = await apiReadMs(ds);

    say('reference: 100 on one node, one batch per request');
    const reference = await burst(ds, [new Ipam(ds, { maxBatch: 1 })], ['ref-node'], 100, 'ref');
    say('100 concurrent on one node');
    const one = await burst(ds, [new Ipam(ds)], ['node-a'], 100, 'one');
    say('400 concurrent across 8 nodes');
    const nodes = Array.from({ length: 8 }, (_, i) => `node-${i + 1}`);
    const eight = await burst(
      ds,
      nodes.map(() => new Ipam(ds)),
      nodes,
      50,
      'eight',
    );

    const all = [...reference.addresses, ...one.addresses, ...eight.addresses];
    const check = checkIpam(await readSnapshot(ds));
    const latencies = [...one.latencies, ...eight.latencies];
    publish('ipam', {
      one_node_100_ms: round(one.ms, 1),
      eight_nodes_400_ms: round(eight.ms, 1),
      api_writes_per_alloc: round((one.writes + eight.writes) / 500, 3),
      alloc_p50_ms: round(quantile(latencies, 0.5), 1),
      alloc_p95_ms: round(quantile(latencies, 0.95), 1),
      duplicates: duplicatesIn(all),
      check_problems: check.problems.length,
      one_node_writes_per_alloc: round(one.writes / 100, 3),
      eight_nodes_writes_per_alloc: round(eight.writes / 400, 3),
      reference_unbatched_100_ms: round(reference.ms, 1),
      reference_unbatched_writes_per_alloc: round(reference.writes / 100, 3),
      ratio_one_node_vs_unbatched: round(one.ms / reference.ms, 3),
      ratio_one_node_vs_target_2s: round(one.ms / 2000, 3),
      api_read_p50_ms: round(readMs, 2),
      ratio_alloc_p50_vs_api_read: round(quantile(latencies, 0.5) / readMs, 1),
      cores: (await import('node:os')).availableParallelism(),
    });
  } finally {
    await ds.close();
    await controlPlaneDown(name);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench ipam: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
