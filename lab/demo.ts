// `npm run demo`: tabby end to end on the two-racks lab. It starts a local control plane
// (etcd + kube-apiserver), brings up the lab (FRR spine and ToRs, four servers, each its own AS),
// registers the servers as Kubernetes Nodes with a BGPPeer to their ToR, runs a tabby agent and
// its gobgpd in every server, creates two pods per server through the real CNI plugin, then
// prints the pod×pod ping matrix, each server's tabby routes and each router's BGP table.
// `npm run demo -- down` removes all of it (pods, agents, lab, control plane).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { repoPath } from '../common/paths.js';
import { formatRoutes } from '../ctl/routes-format.js';
import { kubernetesDatastore } from '../datastore/index.js';
import { BGP_CONFIGURATION_NAME } from '../datastore/resources.js';
import { addNetns, deleteNetns, listRoutes, netnsExists } from '../kernel/index.js';
import { birdc } from './bird.js';
import { startCluster } from './cluster.js';
import { runCni } from './cni-runner.js';
import { CONTROL_PLANE_DIR, controlPlaneDown, controlPlaneUp } from './control-plane/index.js';
import { formatStatus } from './format.js';
import { vtysh } from './frr.js';
import { formatPingMatrix, pingMatrix } from './ping-matrix.js';
import { labUp } from './runner.js';
import { readState } from './state.js';
import { labStatus, waitForBgp } from './status.js';
import { labDown } from './teardown.js';
import { parseTopology } from './topology/parse.js';

const FILE = repoPath('lab/topologies/two-racks.clab.yml');
const CONTROL_PLANE = 'demo';
const POOL = { name: 'default', cidr: '10.244.0.0/16', blockSize: 26 };
const DEMO_STATE = `${CONTROL_PLANE_DIR}/demo-pods.json`;
const say = (m: string) => process.stderr.write(`demo: ${m}\n`);
const out = (m = '') => process.stdout.write(`${m}\n`);

interface DemoPod {
  node: string;
  name: string;
  netns: string;
  ip: string;
}

async function down(name: string): Promise<void> {
  let pods: DemoPod[] = [];
  try {
    pods = JSON.parse(readFileSync(DEMO_STATE, 'utf8')) as DemoPod[];
  } catch {}
  for (const p of pods) await deleteNetns(p.netns).catch(() => {});
  rmSync(DEMO_STATE, { force: true });
  const r = await labDown(name, say);
  say(r.existed ? `lab ${name} removed` : `lab ${name} was not up`);
  say((await controlPlaneDown(CONTROL_PLANE)) ? 'control plane removed' : 'control plane was not up');
}

async function up(name: string): Promise<number> {
  const topology = parseTopology(readFileSync(FILE, 'utf8'), { source: FILE });
  if (readState(name)) {
    say(`lab ${name} is already up: run \`npm run demo -- down\` first`);
    return 1;
  }
  say('starting the control plane (etcd + kube-apiserver)');
  const cp = await controlPlaneUp({ name: CONTROL_PLANE, progress: say });
  const ds = kubernetesDatastore(cp.kubeconfig);
  try {
    await ds.bgpConfigurations.delete(BGP_CONFIGURATION_NAME).catch(() => {});
    await ds.bgpConfigurations.create({
      metadata: { name: BGP_CONFIGURATION_NAME },
      spec: { keepaliveTime: 3, holdTime: 9, gracefulRestartTime: 120 },
    });
    if (!(await ds.ipPools.get(POOL.name))) {
      await ds.ipPools.create({
        metadata: { name: POOL.name },
        spec: { cidr: POOL.cidr, blockSize: POOL.blockSize },
      });
    }
    await labUp(topology, { topologyFile: FILE, progress: say });
    say('registering the servers as Nodes, with a BGPPeer to their ToR; starting tabby on each');
    const cluster = await startCluster({
      lab: name,
      topology,
      controlPlane: { kubeconfig: cp.kubeconfig, apiSocket: cp.apiSocket },
    });
    say('waiting for every BGP session (routers and servers) to be Established');
    await waitForBgp(name, 90_000, { servers: true });

    const pods: DemoPod[] = [];
    for (const n of cluster.nodes) {
      for (const suffix of ['a', 'b']) {
        const pod = `${n.labNode}-${suffix}`;
        const netns = `${name}-pod-${pod}`;
        if (!(await netnsExists(netns))) await addNetns(netns);
        pods.push({ node: n.labNode, name: pod, netns, ip: '' });
        writeFileSync(DEMO_STATE, JSON.stringify(pods));
        const res = await runCni(
          {
            command: 'ADD',
            containerId: `demo-${pod}`,
            netns: `/run/netns/${netns}`,
            ifname: 'eth0',
            args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`,
          },
          {
            cniVersion: '1.0.0',
            name: 'tabby',
            type: 'tabby',
            agentSocket: n.socket,
            ipam: { pools: [POOL.name] },
          },
        );
        if (res.exitCode !== 0)
          throw new Error(`CNI ADD for ${pod} on ${n.labNode}: ${res.stdout}${res.stderr}`);
        const ip =
          ((res.json?.ips as { address: string }[] | undefined)?.[0]?.address ?? '').split('/')[0] ?? '';
        (pods[pods.length - 1] as DemoPod).ip = ip;
        say(`pod ${pod} on ${n.labNode}: ${ip}`);
      }
    }
    writeFileSync(DEMO_STATE, JSON.stringify(pods));

    out(formatStatus(await labStatus(name)));
    out();
    const sources = pods.map((p) => ({ label: `${p.name} ${p.ip}`, netns: p.netns }));
    const targets = pods.map((p) => ({ label: `${p.name} ${p.ip}`, address: p.ip }));
    let results = await pingMatrix(sources, targets);
    for (let i = 0; i < 20 && results.some((r) => !r.ok); i++) {
      await new Promise((r) => setTimeout(r, 500));
      results = await pingMatrix(sources, targets);
    }
    out('pod × pod reachability (no NAT, no overlay: plain IP routed by BGP):');
    out(formatPingMatrix(results));
    out();
    for (const n of cluster.nodes) {
      out(`── ${n.labNode} (${n.ipv4}, AS ${n.asn ?? 64512}): tabby's routes (ip route show proto 201)`);
      out(formatRoutes(await listRoutes(n.netns, { protocol: 201 }), 201));
      out();
    }
    const state = readState(name);
    for (const r of topology.nodes.filter((x) => x.role === 'router')) {
      const runDir = state?.nodes.find((x) => x.node === r.name)?.runDir ?? '';
      out(`── ${r.name} (AS ${r.asn}): BGP table`);
      out(
        r.daemon === 'bird'
          ? await birdc(runDir, ['show', 'route'])
          : await vtysh(runDir, 'show bgp ipv4 unicast'),
      );
    }
    out(
      [
        'inspect:',
        `  ip netns exec ${name}-node1 npm run -s tabby -- node status   # node1's BGP peers`,
        `  ip netns exec ${name}-node1 npm run -s tabby -- routes        # node1's tabby routes`,
        `  ip netns exec ${name}-node1 gobgp neighbor                    # gobgpd's own view`,
        `  ip netns exec ${name}-node1 gobgp global rib`,
        `  npm run lab -- vtysh ${name} tor1 -- -c 'show bgp ipv4 unicast'`,
        `  KUBECONFIG=${cp.kubeconfig} kubectl get nodes,bgppeers,ipamblocks`,
        'clean up:',
        '  npm run demo -- down',
        '',
      ].join('\n'),
    );
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await ds.close();
  }
}

async function main(verb: string | undefined): Promise<number> {
  const name = parseTopology(readFileSync(FILE, 'utf8'), { source: FILE }).name;
  if (verb === 'down') {
    await down(name);
    return 0;
  }
  if (verb !== undefined && verb !== 'up') {
    say('usage: npm run demo [-- up|down]');
    return 2;
  }
  return up(name);
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    say((e as Error).message);
    say('clean up with: npm run demo -- down');
    process.exitCode = 1;
  },
);
