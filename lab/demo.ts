// `npm run demo`: brings up the two-racks lab (spine + two ToRs on FRR, four server nodes),
// waits for BGP, and prints the lab's status and the underlay reachability matrix.
// `npm run demo -- down` removes it. Later issues grow this into the full pod-network demo.
import { readFileSync } from 'node:fs';
import { repoPath } from '../common/paths.js';
import { formatStatus } from './format.js';
import { formatPingMatrix, pingMatrix } from './ping-matrix.js';
import { labUp } from './runner.js';
import { readState } from './state.js';
import { labStatus, waitForBgp } from './status.js';
import { labDown } from './teardown.js';
import { parseTopology } from './topology/parse.js';

const FILE = repoPath('lab/topologies/two-racks.clab.yml');
const say = (m: string) => process.stderr.write(`demo: ${m}\n`);

async function main(verb: string | undefined): Promise<number> {
  const topology = parseTopology(readFileSync(FILE, 'utf8'), { source: FILE });
  const name = topology.name;
  if (verb === 'down') {
    const r = await labDown(name, say);
    say(r.existed ? `lab ${name} removed` : `lab ${name} was not up`);
    return 0;
  }
  if (verb !== undefined && verb !== 'up') {
    say('usage: npm run demo [-- up|down]');
    return 2;
  }
  if (readState(name)) say(`lab ${name} is already up; showing it`);
  else await labUp(topology, { topologyFile: FILE, progress: say });
  say('waiting for BGP sessions to be Established');
  await waitForBgp(name, 90_000);
  process.stdout.write(`${formatStatus(await labStatus(name))}\n\n`);

  const servers = topology.nodes.filter((n) => n.role === 'node');
  const sources = servers.map((n) => ({ label: n.name, netns: `${name}-${n.name}` }));
  const targets = servers.flatMap((n) => {
    const a = n.interfaces[0]?.addresses.find((x) => x.family === 4);
    return a ? [{ label: n.name, address: a.address }] : [];
  });
  // Cross-rack reachability needs the ToRs to have learned each other's links from the spine.
  let results = await pingMatrix(sources, targets);
  for (let i = 0; i < 10 && results.some((r) => !r.ok); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    results = await pingMatrix(sources, targets);
  }
  process.stdout.write(
    `underlay reachability (server → server, through ToRs and spine):\n${formatPingMatrix(results)}\n\n`,
  );
  process.stdout.write(
    [
      'inspect:',
      `  npm run lab -- status ${name}`,
      `  npm run lab -- vtysh ${name} tor1 -- -c 'show bgp ipv4 unicast'`,
      `  npm run lab -- exec ${name} node1 -- ip route`,
      'clean up:',
      '  npm run demo -- down',
      '',
    ].join('\n'),
  );
  return results.every((r) => r.ok) ? 0 : 1;
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    say((e as Error).message);
    process.exitCode = 1;
  },
);
