// Block IPAM against the real kube-apiserver + etcd: concurrent nodes, conflicts resolved by
// compare-and-swap, release, consistency check, and leak GC. Other files share the API server,
// so this one works in its own pool and nodes and checks only that scope (test/ipam-fixtures.ts).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cidrContains, parseCidr } from '../../common/addr.js';
import { type CountingDatastore, countingDatastore, kubernetesDatastore } from '../../datastore/index.js';
import { checkIpam, Ipam, LeakCollector, readSnapshot } from '../../ipam/index.js';
import { isRoot, ROOT_REASON } from '../helpers.js';
import {
  duplicatesIn,
  type IpamScope,
  scopedSnapshot,
  wipeIpam,
  withBlockUpdateHook,
} from '../ipam-fixtures.js';

// Other files take other parts of 10.244.0.0/16 (pools must not overlap).
const POOL = '10.244.0.0/18';
const NODES = Array.from({ length: 8 }, (_, i) => `ipam-node-${i + 1}`);
const SCOPE: IpamScope = { pool: POOL, nodes: NODES };

describe.skipIf(!isRoot)(`block IPAM on the API server (${ROOT_REASON})`, () => {
  let ds: CountingDatastore;

  beforeAll(async () => {
    ds = countingDatastore(kubernetesDatastore(inject('kubeconfig')));
    await wipeIpam(ds, SCOPE);
    await ds.ipPools.create({ metadata: { name: 'ipam-it' }, spec: { cidr: POOL } });
    await ds.ipamConfigs.create({ metadata: { name: 'default' }, spec: { cooldownSeconds: 0 } });
  });
  afterAll(async () => {
    if (!ds) return;
    await wipeIpam(ds, SCOPE);
    await ds.close();
  });

  it('gives 8 nodes × 50 concurrent requests 400 distinct addresses, consistently', async () => {
    const agents = NODES.map(() => new Ipam(ds));
    ds.reset();
    const results = await Promise.all(
      NODES.flatMap((node, n) =>
        Array.from({ length: 50 }, (_, i) =>
          agents[n]?.assign(`pod-${node}-${i}`, node, {
            v4: 1,
            attrs: { namespace: 'default', pod: `p${i}` },
          }),
        ),
      ),
    );
    const addresses = results.map((r) => r?.addresses[0]?.address as string);
    expect(addresses).toHaveLength(400);
    expect(duplicatesIn(addresses)).toBe(0);
    expect(addresses.every((a) => cidrContains(parseCidr(POOL), a))).toBe(true);
    expect(ds.writes() / 400).toBeLessThan(0.5);

    const snapshot = scopedSnapshot(await readSnapshot(ds), SCOPE);
    const report = checkIpam(snapshot);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ allocated: 400, handles: 400 });
    for (const b of snapshot.blocks) {
      const affinities = snapshot.affinities.filter((a) => a.spec.cidr === b.spec.cidr);
      expect(affinities).toHaveLength(1);
      expect(affinities[0]?.spec).toMatchObject({ node: b.spec.affinity, state: 'confirmed' });
    }
  });

  it('releases everything, leaving no handle and a clean check', async () => {
    const ipam = new Ipam(ds);
    const released = await Promise.all(
      NODES.flatMap((node) =>
        Array.from({ length: 50 }, (_, i) => ipam.releaseByHandle(`pod-${node}-${i}`, node)),
      ),
    );
    expect(released.every((r) => r.released.length === 1)).toBe(true);
    const report = checkIpam(scopedSnapshot(await readSnapshot(ds), SCOPE));
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ allocated: 0, handles: 0 });
    const indexes = (await ds.ipamHandles.list()).items.filter((i) => NODES.includes(i.spec.node));
    expect(indexes.every((i) => Object.keys(i.spec.handles).length === 0)).toBe(true);
  });

  it('retries a block update that lost a real race, losing nothing', async () => {
    const node = NODES[0] as string;
    const rival = new Ipam(ds);
    let raced = false;
    const racing = withBlockUpdateHook(ds, async () => {
      if (raced) return;
      raced = true;
      await rival.assign('rival', node, { v4: 1 }); // lands first: our write now carries a stale version
    });
    const before = ds.conflicts();
    const mine = await new Ipam(racing).assign('mine', node, { v4: 1 });
    const theirs = await rival.assign('rival', node, { v4: 1 });
    expect(raced).toBe(true);
    expect(ds.conflicts()).toBeGreaterThan(before);
    expect(mine.addresses[0]?.address).not.toBe(theirs.addresses[0]?.address);
    expect(checkIpam(scopedSnapshot(await readSnapshot(ds), SCOPE)).problems).toEqual([]);
    await Promise.all([rival.releaseByHandle('rival', node), rival.releaseByHandle('mine', node)]);
  });

  it('reclaims a deleted pod’s address after the grace period and spares a recreated pod', async () => {
    const node = NODES[1] as string;
    const ipam = new Ipam(ds);
    const pods = new Set(['gone', 'back', 'alive']);
    for (const h of pods) await ipam.assign(h, node, { v4: 1 });
    pods.delete('gone');
    pods.delete('back');
    let clock = Date.now();
    const gc = new LeakCollector(
      ipam,
      {
        liveHandles: async () => new Set(pods),
        isLive: async (handle) => {
          if (handle === 'back') pods.add('back'); // recreated while the GC decides
          return pods.has(handle);
        },
      },
      // Other files allocate on the same API server meanwhile: collect only in this file's pool.
      { graceMs: 60_000, now: () => clock, pools: [POOL] },
    );
    expect((await gc.run()).reclaimed).toEqual([]);
    clock += 60_000;
    const report = await gc.run();
    expect(report.reclaimed.map((r) => r.handle)).toEqual(['gone']);
    expect(report.spared).toEqual(['back']);
    const check = checkIpam(scopedSnapshot(await readSnapshot(ds), SCOPE));
    expect(check.problems).toEqual([]);
    expect(check.allocated).toBe(2);
  });
});
