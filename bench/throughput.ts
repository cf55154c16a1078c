// Throughput benchmark: iperf3 TCP from node1 to node3 (across racks: node1 → tor1 → spine →
// tor2 → node3) over four paths on the same two-racks lab, interleaved, REPS runs each:
//
//   pod        two pods wired by tabby (the real plugin and agents; routes learned over BGP)
//   underlay   node1's eth1 address → node3's (no pod veth at either end)
//   handmade   two pods wired by hand the way tabby wires them (veth pair; pod eth0 /32, an
//              on-link route to 169.254.1.1 and the default route via it; host side proxy_arp,
//              forwarding, rp_filter and proxy_delay as tabby sets them, a /32 route to the
//              veth) with static routes for the two /32s on tor1, spine and tor2: the reference
//              for "tabby adds nothing to the data path"
//   vxlan      a flannel-style overlay built by hand: a vxlan device on node1 and node3 (VNI 1,
//              port 4789, local = the node's underlay address, no learning, MTU 1450), static
//              fdb and neighbor entries, 10.251.1.0/24 and 10.251.3.0/24 routed `via 10.251.X.0
//              dev vxlan1 onlink`, a veth pod (MTU 1450) on each side
//
// Each run: `iperf3 -s -1` in the receiving namespace, `iperf3 -c ADDR -t SECONDS -J` in the
// sending one; the figure is end.sum_received.bits_per_second. Medians per path.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  addNetns,
  createVethPair,
  deleteNetns,
  runInNetns,
  type StreamingChild,
  setSysctls,
  spawnStreaming,
} from '../kernel/index.js';
import { netnsName } from '../lab/topology/plan.js';
import type { BgpLab } from '../test/bgp-lab.js';
import { type Cleanup, ipLines, sayer, tabbyLab, until, withCleanup } from './lab-helpers.js';
import { publish } from './results.js';
import { quantile, round } from './stats.js';

const say = sayer('throughput');
const REPS = Number(process.env.BENCH_TP_REPS ?? 3);
const SECONDS = Number(process.env.BENCH_TP_SECONDS ?? 5);
const PATHS = ['pod', 'underlay', 'handmade', 'vxlan'] as const;
type PathName = (typeof PATHS)[number];

/** The underlay of two-racks.clab.yml. */
const NET = {
  node1: '198.18.1.1',
  node3: '198.18.2.1',
  tor1ToNode1: '198.18.1.0',
  tor2ToNode3: '198.18.2.0',
  spineToTor1: '198.18.0.0',
  tor1ToSpine: '198.18.0.1',
  spineToTor2: '198.18.0.2',
  tor2ToSpine: '198.18.0.3',
};
const HANDMADE = { node1: '10.250.1.10', node3: '10.250.3.10' };
const VXLAN = {
  node1: { pod: '10.251.1.10', subnet: '10.251.1.0/24', vtep: '10.251.1.0', mac: '02:42:0a:fb:01:00' },
  node3: { pod: '10.251.3.10', subnet: '10.251.3.0/24', vtep: '10.251.3.0', mac: '02:42:0a:fb:03:00' },
};
const GATEWAY = '169.254.1.1';

interface Endpoint {
  netns: string;
  address: string;
}

/** A pod namespace wired by hand to `nodeNetns` the way tabby's plugin wires its pods. */
async function handPod(
  c: Cleanup,
  o: { netns: string; nodeNetns: string; hostVeth: string; address: string; mtu: number },
): Promise<void> {
  c.add(`delete ${o.netns}`, () => deleteNetns(o.netns));
  await addNetns(o.netns);
  await createVethPair({ netns: o.nodeNetns, name: o.hostVeth }, { netns: o.netns, name: 'eth0' }, o.mtu);
  await ipLines(o.netns, [
    `addr add ${o.address}/32 dev eth0`,
    'link set eth0 up',
    `route add ${GATEWAY}/32 dev eth0 scope link`,
    `route add default via ${GATEWAY} dev eth0`,
  ]);
  await setSysctls(o.nodeNetns, {
    [`net.ipv4.conf.${o.hostVeth}.proxy_arp`]: 1,
    [`net.ipv4.conf.${o.hostVeth}.forwarding`]: 1,
    [`net.ipv4.conf.${o.hostVeth}.rp_filter`]: 1,
    [`net.ipv4.neigh.${o.hostVeth}.proxy_delay`]: 0,
  });
  await ipLines(o.nodeNetns, [`link set ${o.hostVeth} up`, `route add ${o.address}/32 dev ${o.hostVeth}`]);
}

/** Two hand-wired pods and static routes for their /32s on tor1, spine and tor2. */
async function handmadePath(c: Cleanup, lab: BgpLab): Promise<[Endpoint, Endpoint]> {
  const a = { netns: `${lab.name}-hm1`, address: HANDMADE.node1 };
  const b = { netns: `${lab.name}-hm3`, address: HANDMADE.node3 };
  await handPod(c, { ...a, nodeNetns: lab.netns('node1'), hostVeth: 'hmv1', mtu: 1500 });
  await handPod(c, { ...b, nodeNetns: lab.netns('node3'), hostVeth: 'hmv3', mtu: 1500 });
  await ipLines(netnsName(lab.name, 'tor1'), [
    `route add ${a.address}/32 via ${NET.node1}`,
    `route add ${b.address}/32 via ${NET.spineToTor1}`,
  ]);
  await ipLines(netnsName(lab.name, 'spine'), [
    `route add ${a.address}/32 via ${NET.tor1ToSpine}`,
    `route add ${b.address}/32 via ${NET.tor2ToSpine}`,
  ]);
  await ipLines(netnsName(lab.name, 'tor2'), [
    `route add ${b.address}/32 via ${NET.node3}`,
    `route add ${a.address}/32 via ${NET.spineToTor2}`,
  ]);
  return [a, b];
}

/** A flannel-style VXLAN overlay between node1 and node3, a veth pod (MTU 1450) on each side. */
async function vxlanPath(c: Cleanup, lab: BgpLab): Promise<[Endpoint, Endpoint]> {
  const sides = [
    { node: 'node1', me: VXLAN.node1, peer: VXLAN.node3, local: NET.node1, remote: NET.node3 },
    { node: 'node3', me: VXLAN.node3, peer: VXLAN.node1, local: NET.node3, remote: NET.node1 },
  ] as const;
  const ends: Endpoint[] = [];
  for (const s of sides) {
    const ns = lab.netns(s.node);
    await ipLines(ns, [
      `link add vxlan1 address ${s.me.mac} type vxlan id 1 dstport 4789 local ${s.local} nolearning dev eth1`,
      'link set vxlan1 mtu 1450 up',
      `addr add ${s.me.vtep}/32 dev vxlan1`,
      `route add ${s.peer.subnet} via ${s.peer.vtep} dev vxlan1 onlink`,
      `neigh add ${s.peer.vtep} lladdr ${s.peer.mac} dev vxlan1 nud permanent`,
    ]);
    await runInNetns(ns, [
      'bridge',
      'fdb',
      'add',
      s.peer.mac,
      'dev',
      'vxlan1',
      'dst',
      s.remote,
      'self',
      'permanent',
    ]);
    const pod = { netns: `${lab.name}-vx${s.node.slice(-1)}`, address: s.me.pod };
    await handPod(c, { ...pod, nodeNetns: ns, hostVeth: `vxv${s.node.slice(-1)}`, mtu: 1450 });
    ends.push(pod);
  }
  return [ends[0] as Endpoint, ends[1] as Endpoint];
}

async function reachable(from: Endpoint, to: Endpoint): Promise<void> {
  await until(
    `${from.address} → ${to.address}`,
    () =>
      runInNetns(from.netns, ['ping', '-c', '1', '-W', '1', to.address]).then(
        () => true,
        () => false,
      ),
    (ok) => ok,
    60_000,
    250,
  );
}

/** One iperf3 run from `from` to `to`: received bits per second. */
async function iperf(from: Endpoint, to: Endpoint): Promise<number> {
  let listening: () => void = () => {};
  const ready = new Promise<void>((r) => {
    listening = r;
  });
  const server: StreamingChild = spawnStreaming(
    ['ip', 'netns', 'exec', to.netns, 'iperf3', '-s', '-1', '--forceflush', '-B', to.address],
    {
      onStdoutLine: (l) => {
        if (l.includes('Server listening')) listening();
      },
      onExit: () => listening(),
    },
  );
  try {
    await Promise.race([ready, sleep(10_000)]);
    const { stdout } = await runInNetns(
      from.netns,
      ['iperf3', '-c', to.address, '-B', from.address, '-t', String(SECONDS), '-J'],
      { timeoutMs: (SECONDS + 30) * 1000 },
    );
    const report = JSON.parse(stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
    const bps = report.end?.sum_received?.bits_per_second;
    if (!bps) throw new Error(`iperf3 ${from.address} → ${to.address}: no end.sum_received`);
    return bps;
  } finally {
    await server.kill(2000);
  }
}

async function main(c: Cleanup): Promise<void> {
  const started = Date.now();
  const lab = await tabbyLab(c, {
    bench: 'throughput',
    prefix: 'btp',
    pool: { name: 'bench-tp', cidr: '10.244.0.0/20', blockSize: 26 },
  });
  const [p1, p3] = [await lab.addPod('node1', 'tp1'), await lab.addPod('node3', 'tp3')];
  const paths: Record<PathName, [Endpoint, Endpoint]> = {
    pod: [
      { netns: p1.netns, address: p1.ip },
      { netns: p3.netns, address: p3.ip },
    ],
    underlay: [
      { netns: lab.netns('node1'), address: NET.node1 },
      { netns: lab.netns('node3'), address: NET.node3 },
    ],
    handmade: await handmadePath(c, lab),
    vxlan: await vxlanPath(c, lab),
  };
  for (const p of PATHS) await reachable(...paths[p]);

  say(`${REPS} runs of ${SECONDS} s per path, interleaved`);
  const gbps: Record<PathName, number[]> = { pod: [], underlay: [], handmade: [], vxlan: [] };
  for (let r = 0; r < REPS; r++) {
    for (const p of PATHS) {
      const g = (await iperf(...paths[p])) / 1e9;
      gbps[p].push(g);
      say(`run ${r} ${p}: ${g.toFixed(2)} Gbit/s`);
    }
  }
  const med = (p: PathName) => quantile(gbps[p], 0.5);
  publish('throughput', {
    seconds: SECONDS,
    runs: REPS,
    pod_gbps: round(med('pod')),
    underlay_gbps: round(med('underlay')),
    handmade_gbps: round(med('handmade')),
    vxlan_gbps: round(med('vxlan')),
    ratio_handmade: round(med('pod') / med('handmade'), 3),
    ratio_underlay: round(med('pod') / med('underlay'), 3),
    ratio_vxlan: round(med('pod') / med('vxlan'), 3),
    target_ratio_handmade: 0.97,
    target_ratio_vxlan: 1.1,
    runs_gbps: Object.fromEntries(PATHS.map((p) => [p, gbps[p].map((g) => round(g))])),
    bench_s: Math.round((Date.now() - started) / 1000),
  });
}

await withCleanup(main);
