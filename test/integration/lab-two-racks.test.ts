// two-racks realized for real: namespaces, veths, FRR; BGP sessions from FRR's own JSON;
// pings across the underlay; and `down` leaves the machine as it found it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunning, listNetns, type ProcessRef, runInNetns } from '../../kernel/index.js';
import { labUp } from '../../lab/runner.js';
import { statePath } from '../../lab/state.js';
import { labStatus, notEstablished, waitForBgp } from '../../lab/status.js';
import { labDown } from '../../lab/teardown.js';
import { parseTopology } from '../../lab/topology/parse.js';
import { isRoot, labLeftovers, ROOT_REASON, uniqueName } from '../helpers.js';

const FILE = fileURLToPath(new URL('../../lab/topologies/two-racks.clab.yml', import.meta.url));

describe.skipIf(!isRoot)(`lab two-racks (${ROOT_REASON})`, () => {
  const name = uniqueName('t2r');
  const topology = parseTopology(readFileSync(FILE, 'utf8'), { name, source: FILE });
  beforeAll(async () => {
    await labUp(topology, { topologyFile: FILE });
  });
  afterAll(async () => {
    await labDown(name); // no-op when the last test already removed it
  });

  it('creates one namespace per node, named <lab>-<node>', async () => {
    const now = await listNetns();
    for (const n of topology.nodes) expect(now).toContain(`${name}-${n.name}`);
  });

  it('refuses a second up of the same lab, touching nothing', async () => {
    await expect(labUp(topology)).rejects.toThrow(`lab "${name}" is already up`);
    expect((await labStatus(name)).phase).toBe('up');
  });

  it('brings every ToR↔spine eBGP session to Established (FRR JSON)', async () => {
    const status = await waitForBgp(name, 60_000);
    const sessions = (node: string, role: string) =>
      (status.nodes.find((n) => n.node === node)?.bgp ?? [])
        .filter((s) => s.peerRole === role)
        .map((s) => [s.peer, s.remoteAs, s.state]);
    expect(sessions('spine', 'router').sort()).toEqual([
      ['198.18.0.1', 65001, 'Established'],
      ['198.18.0.3', 65002, 'Established'],
    ]);
    expect(sessions('tor1', 'router')).toEqual([['198.18.0.0', 65000, 'Established']]);
    expect(sessions('tor2', 'router')).toEqual([['198.18.0.2', 65000, 'Established']]);
  });

  it('has each ToR wait for its servers (one AS each) until tabby runs there', async () => {
    const status = await labStatus(name);
    const toServers = status.nodes
      .flatMap((n) => (n.bgp ?? []).map((b) => ({ router: n.node, ...b })))
      .filter((b) => b.peerRole === 'node');
    expect(toServers.map((b) => [b.router, b.peer, b.peerNode, b.remoteAs])).toEqual([
      ['tor1', '198.18.1.1', 'node1', 64601],
      ['tor1', '198.18.1.3', 'node2', 64602],
      ['tor2', '198.18.2.1', 'node3', 64603],
      ['tor2', '198.18.2.3', 'node4', 64604],
    ]);
    // Nothing listens on the servers: the sessions cannot be Established.
    expect(toServers.every((b) => b.state !== 'Established')).toBe(true);
    expect(notEstablished(status)).toEqual([]);
    await expect(waitForBgp(name, 1000, { servers: true })).rejects.toThrow(
      /BGP sessions not Established after 1 s: tor1→198\.18\.1\.1 \w+/,
    );
  });

  it('lets every node ping its ToR', async () => {
    const tors: Record<string, string> = {
      node1: '198.18.1.0',
      node2: '198.18.1.2',
      node3: '198.18.2.0',
      node4: '198.18.2.2',
    };
    for (const [node, tor] of Object.entries(tors)) {
      await expect(runInNetns(`${name}-${node}`, ['ping', '-c', '1', '-W', '2', tor])).resolves.toBeDefined();
    }
  });

  it('routes the underlay across racks through the spine (BGP-learned routes)', async () => {
    // node1 (rack 1) → node4 (rack 2): needs tor1 to have learned rack 2's links from the spine.
    const deadline = Date.now() + 20_000;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        await runInNetns(`${name}-node1`, ['ping', '-c', '1', '-W', '1', '198.18.2.3']);
        lastError = undefined;
        break;
      } catch (e) {
        lastError = e;
      }
    }
    expect(lastError).toBeUndefined();
    const { stdout } = await runInNetns(`${name}-tor1`, ['ip', 'route', 'show', '198.18.2.2/31']);
    expect(stdout).toMatch(/via 198\.18\.0\.0 dev eth1 proto bgp/);
  });

  it('runs a second copy of the same file at once, isolated, and removes it alone', async () => {
    const other = uniqueName('t2rb');
    await labUp(parseTopology(readFileSync(FILE, 'utf8'), { name: other, source: FILE }));
    try {
      const s = await waitForBgp(other, 60_000);
      const sessions = s.nodes.filter((n) => n.role === 'router').flatMap((n) => n.bgp ?? []);
      expect(sessions.filter((b) => b.peerRole === 'router' && b.state === 'Established')).toHaveLength(4);
      // Same addresses in both labs, no interference: each lab is its own set of namespaces.
      await runInNetns(`${other}-node1`, ['ping', '-c', '1', '-W', '2', '198.18.1.0']);
    } finally {
      await labDown(other);
    }
    expect(await labLeftovers(other)).toEqual([]);
    expect(notEstablished(await labStatus(name))).toEqual([]);
  });

  it('reports nodes, links and daemons in status', async () => {
    const s = await labStatus(name);
    expect(s.phase).toBe('up');
    expect(s.processes).toHaveLength(6);
    expect(s.processes.every((p) => p.running)).toBe(true);
    expect(s.links).toContainEqual({ a: 'spine:eth1', b: 'tor1:eth1', stateA: 'UP', stateB: 'UP' });
    expect(s.links).toHaveLength(6);
    const tor1 = s.nodes.find((n) => n.node === 'tor1');
    expect(tor1?.interfaces.find((i) => i.name === 'eth2')).toMatchObject({
      state: 'UP',
      addresses: ['198.18.1.0/31'],
    });
  });

  it('down removes every namespace, veth, process, temp dir and the state file', async () => {
    // (The run as a whole must also leave `ip netns list` and the daemons as it found them:
    // test/global-setup.ts checks that after the last test.)
    const state = JSON.parse(readFileSync(statePath(name), 'utf8')) as { processes: ProcessRef[] };
    expect((await labLeftovers(name)).length).toBeGreaterThan(0);
    await labDown(name);
    expect(await labLeftovers(name)).toEqual([]);
    expect(state.processes.filter(isRunning)).toEqual([]);
    // idempotent
    await expect(labDown(name)).resolves.toMatchObject({ existed: false });
  });
});
