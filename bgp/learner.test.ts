import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IpFamily } from '../common/addr.js';
import { type LogEntry, recordingLog } from '../felix/fake-log.js';
import type { Route, RouteSource } from '../felix/routes/types.js';
import { canonicalRoute } from '../kernel/route-spec.js';
import { FakeGobgp } from './fake-gobgp.js';
import type { BestPaths } from './gobgp-api.js';
import { BgpLearner } from './learner.js';

/** The route table as the learner sees it: what source 'bgp' holds, and every call. */
class FakeRoutes {
  readonly bgp = new Map<string, Route>();
  readonly ops: string[] = [];

  setRoutes(source: RouteSource, routes: readonly Route[]): void {
    expect(source).toBe('bgp');
    this.ops.push(`setRoutes ${routes.length}`);
    const canonical = routes.map(canonicalRoute); // throws like the real one on a bad route
    this.bgp.clear();
    for (const r of canonical) this.bgp.set(r.dst, r);
  }

  upsert(source: RouteSource, route: Route): void {
    expect(source).toBe('bgp');
    this.ops.push(`upsert ${route.dst}`);
    this.bgp.set(route.dst, canonicalRoute(route));
  }

  remove(source: RouteSource, _family: IpFamily, dst: string): void {
    expect(source).toBe('bgp');
    this.ops.push(`remove ${dst}`);
    this.bgp.delete(dst);
  }

  /** dst → next hops. */
  table(): Record<string, string[]> {
    return Object.fromEntries([...this.bgp].map(([dst, r]) => [dst, (r.nexthops ?? []).map((n) => n.via)]));
  }
}

const OWN = '10.10.0.1';
const best = (prefix: string, ...nextHops: string[]): BestPaths => ({
  family: prefix.includes(':') ? 6 : 4,
  prefix,
  nextHops,
  local: false,
});
const gw = (dst: string, ...via: string[]): Route => ({
  family: dst.includes(':') ? 6 : 4,
  dst,
  type: 'unicast',
  nexthops: via.map((v) => ({ via: v })),
});

let api: FakeGobgp;
let routes: FakeRoutes;
let logs: LogEntry[];
let learner: BgpLearner;
let resets: number;

const run = (ms = 0) => vi.advanceTimersByTimeAsync(ms);
const messages = (level: string) => logs.filter((l) => l.level === level).map((l) => String(l.msg));

let kepts: number[];
let syncs: number;

function newLearner(opts: { maxHoldMs?: number; settleMs?: number } = {}): BgpLearner {
  const { log, entries } = recordingLog();
  logs = entries;
  resets = 0;
  kepts = [];
  syncs = 0;
  learner = new BgpLearner({
    api,
    routes,
    log,
    ownAddresses: () => new Set([OWN, 'fd00:10::1']),
    verifyIntervalMs: 60_000,
    onReset: (kept) => {
      resets++;
      kepts.push(kept);
    },
    onSynced: () => syncs++,
    ...opts,
  });
  return learner;
}

/** gobgpd's watch (re)starts: reset, the whole table, one INIT per peer. */
function restartWatch(table: BestPaths[], peers: Record<string, 'established' | 'active'>): void {
  api.emit({ kind: 'reset' });
  api.learn(table);
  for (const [address, state] of Object.entries(peers)) api.setPeerState(address, state);
}

/** A learner that has synced with one established peer and `table`. */
async function synced(
  table: BestPaths[] = [],
  opts: Parameters<typeof newLearner>[0] = {},
): Promise<BgpLearner> {
  newLearner(opts).start();
  restartWatch(table, { '10.10.0.2': 'established' });
  await run(1_000);
  expect(learner.snapshot().state).toBe('synced');
  routes.ops.length = 0;
  return learner;
}

beforeEach(async () => {
  vi.useFakeTimers();
  api = new FakeGobgp();
  await api.startBgp({ asn: 64512, routerId: OWN, listenPort: -1, listenAddresses: [] });
  routes = new FakeRoutes();
});

afterEach(() => {
  learner?.stop();
  vi.useRealTimers();
});

describe('BgpLearner: best paths to routes', () => {
  it('installs ECMP routes; each event replaces the next-hop set; an empty set withdraws', async () => {
    await synced();
    api.learn(best('10.244.2.0/26', '10.10.0.3', '10.10.0.2'));
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2', '10.10.0.3'] });
    api.learn(best('10.244.2.0/26', '10.10.0.3'));
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.3'] });
    api.learn(best('10.244.2.0/26'));
    expect(routes.table()).toEqual({});
    expect(routes.ops).toEqual(['upsert 10.244.2.0/26', 'upsert 10.244.2.0/26', 'remove 10.244.2.0/26']);
    expect(learner.snapshot().routes).toEqual([]);
  });

  it('an event that repeats the installed next hops changes nothing; empty events are ignored', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')]);
    api.learn(best('10.244.2.0/26', '10.10.0.2', '10.10.0.2'));
    api.emit({ kind: 'best', paths: [] });
    expect(routes.ops).toEqual([]);
  });

  it("skips local paths, this node's own next hops, default routes and link-local-only IPv6 next hops", async () => {
    await synced();
    api.learn([
      { ...best('10.244.1.0/26', '0.0.0.0'), local: true },
      best('10.244.3.0/26', OWN, '10.10.0.3'),
      best('10.244.4.0/26', OWN),
      best('0.0.0.0/0', '10.10.0.254'),
      best('::/0', 'fd00:10::fe'),
      best('fd00:244:5::/64', 'fe80::1'),
      best('fd00:244:6::/64', 'fd00:10::6', 'fe80::6'),
      best('fd00:244:7::/64', '10.10.0.7'),
    ]);
    expect(routes.table()).toEqual({
      '10.244.3.0/26': ['10.10.0.3'],
      'fd00:244:6::/64': ['fd00:10::6'],
    });
    expect(messages('warn')).toEqual([
      'learned default route ignored (tabby never installs a default route from BGP)',
      'learned default route ignored (tabby never installs a default route from BGP)',
    ]);
    expect(logs.find((l) => String(l.msg).includes('link-local'))).toMatchObject({
      level: 'info',
      obj: { prefix: 'fd00:244:5::/64', reason: 'link-local-next-hop' },
      msg: expect.stringContaining('needs the device it was learned on'),
    });
  });

  it('withdraws a learned route whose next hops all become unusable (e.g. now originated here)', async () => {
    await synced([best('10.244.3.0/26', '10.10.0.3')]);
    api.learn({ ...best('10.244.3.0/26', '0.0.0.0'), local: true });
    expect(routes.table()).toEqual({});
  });

  it('updates one prefix per event, even at 10k routes (no full replacement per event)', async () => {
    await synced();
    const table = Array.from({ length: 10_000 }, (_, i) =>
      best(`10.${100 + (i >> 8)}.${i & 255}.0/24`, i % 2 ? '10.10.0.2' : '10.10.0.3'),
    );
    api.learn(table);
    api.learn(best('10.100.0.0/24', '10.10.0.9'));
    expect(Object.keys(routes.table())).toHaveLength(10_000);
    expect(routes.ops.filter((o) => o.startsWith('setRoutes'))).toEqual([]);
    expect(routes.ops.at(-1)).toBe('upsert 10.100.0.0/24');
    expect(routes.ops).toHaveLength(10_001);
  });
});

describe('BgpLearner: restart safety', () => {
  it('keeps seeded routes until synced, then removes those not learned again', async () => {
    newLearner().seed([gw('10.244.2.0/26', '10.10.0.2'), gw('10.244.3.0/26', '10.10.0.3')]);
    expect(routes.ops).toEqual(['setRoutes 2']);
    learner.start();
    restartWatch([best('10.244.2.0/26', '10.10.0.2', '10.10.0.4')], {
      '10.10.0.2': 'established',
      '10.10.0.3': 'active',
    });
    expect(routes.table()).toEqual({
      '10.244.2.0/26': ['10.10.0.2', '10.10.0.4'],
      '10.244.3.0/26': ['10.10.0.3'],
    });
    expect(learner.snapshot()).toMatchObject({ state: 'holding', kept: [{ prefix: '10.244.3.0/26' }] });
    await run(5_000); // 10.10.0.3 is not back yet
    expect(learner.snapshot().state).toBe('holding');
    api.setPeerState('10.10.0.3', 'established');
    await run(999);
    expect(learner.snapshot().state).toBe('holding');
    expect(routes.table()).toHaveProperty(['10.244.3.0/26']);
    await run(1);
    expect(learner.snapshot()).toMatchObject({ state: 'synced', kept: [] });
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2', '10.10.0.4'] });
    expect(routes.ops.filter((o) => o.startsWith('setRoutes'))).toEqual(['setRoutes 2', 'setRoutes 1']);
    expect(messages('info')).toContain('BGP synced: peers are back; routes not learned again removed');
  });

  it('while holding removes only explicit withdrawals of routes learned since the reset', async () => {
    newLearner().seed([gw('10.244.2.0/26', '10.10.0.2'), gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    restartWatch([best('10.244.4.0/26', '10.10.0.4')], { '10.10.0.2': 'active' });
    api.learn([best('10.244.3.0/26'), best('10.244.4.0/26')]);
    expect(Object.keys(routes.table()).sort()).toEqual(['10.244.2.0/26', '10.244.3.0/26']);
  });

  it('counts peers that are admin down or shut down by max-prefix as back', async () => {
    newLearner().seed([gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    restartWatch([], { '10.10.0.2': 'established' });
    api.setPeerState('10.10.0.3', 'idle', 'pfx_ct');
    api.setPeerState('10.10.0.4', 'idle', 'down');
    await run(1_000);
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({});
  });

  it('syncs at maxHoldMs after the reset when peers do not come back', async () => {
    newLearner({ maxHoldMs: 120_000 }).seed([gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    await run(10_000);
    restartWatch([best('10.244.2.0/26', '10.10.0.2')], { '10.10.0.2': 'established', '10.10.0.3': 'active' });
    await run(119_999);
    expect(learner.snapshot().state).toBe('holding');
    await run(1);
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
    expect(logs.find((l) => l.level === 'warn')).toMatchObject({
      obj: { waitingFor: ['10.10.0.3'], removed: 1 },
      msg: 'BGP synced at the end of the hold: peers not all back; routes not learned again removed',
    });
  });

  it('with no peers at all, holds until maxHoldMs', async () => {
    newLearner({ maxHoldMs: 30_000 }).seed([gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    restartWatch([], {});
    await run(29_999);
    expect(learner.snapshot().state).toBe('holding');
    await run(1);
    expect(routes.table()).toEqual({});
  });

  it('holds without limit before gobgpd was ever heard from', async () => {
    newLearner({ maxHoldMs: 1_000 }).seed([gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    await run(600_000);
    expect(learner.snapshot().state).toBe('holding');
    expect(api.methods()).not.toContain('listBestPaths'); // no table to verify against yet
    expect(routes.table()).toEqual({ '10.244.3.0/26': ['10.10.0.3'] });
  });

  it('a reset re-enters holding with the learned routes as the seed', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2'), best('10.244.3.0/26', '10.10.0.3')]);
    api.learn(best('10.244.3.0/26'), { silent: true }); // gone while gobgpd restarted
    restartWatch([best('10.244.2.0/26', '10.10.0.2')], { '10.10.0.2': 'active' });
    expect(resets).toBe(2);
    expect(learner.snapshot()).toMatchObject({ state: 'holding', kept: [{ prefix: '10.244.3.0/26' }] });
    expect(Object.keys(routes.table()).sort()).toEqual(['10.244.2.0/26', '10.244.3.0/26']);
    expect(routes.ops).toEqual([]); // the unchanged route is not rewritten
    api.setPeerState('10.10.0.2', 'established');
    await run(1_000);
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
  });

  it("does not sync on the peers before gobgpd's table came (the first best after the reset)", async () => {
    newLearner().seed([gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    api.emit({ kind: 'reset' });
    api.setPeerState('10.10.0.2', 'established'); // INIT events come before the dump
    await run(5_000);
    expect(learner.snapshot().state).toBe('holding');
    expect(routes.table()).toEqual({ '10.244.3.0/26': ['10.10.0.3'] });
    api.emit({ kind: 'best', paths: [] }); // an empty table is a table
    await run(); // the peer has been up for longer than the settle time
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({});
    expect(syncs).toBe(1);
  });

  it('a reset needs a table of its own: one from before the reset does not count', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')]);
    api.emit({ kind: 'reset' });
    api.setPeerState('10.10.0.2', 'established');
    await run(5_000);
    expect(learner.snapshot().state).toBe('holding');
    api.learn(best('10.244.2.0/26', '10.10.0.2'));
    await run();
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
  });

  it('while the watch is down, the hold has no deadline; the next reset starts a new one', async () => {
    newLearner({ maxHoldMs: 30_000 }).seed([gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    restartWatch([], { '10.10.0.3': 'active' });
    await run(20_000);
    api.emit({ kind: 'down' }); // gobgpd gone
    api.setPeerState('10.10.0.3', 'established'); // (cannot happen; and must not count)
    await run(600_000);
    expect(learner.snapshot().state).toBe('holding');
    expect(routes.table()).toEqual({ '10.244.3.0/26': ['10.10.0.3'] });
    expect(messages('warn')).toContain('BGP watch down while holding: routes kept until gobgpd is back');
    expect(api.methods()).not.toContain('listBestPaths'); // no verification against nothing
    restartWatch([], { '10.10.0.3': 'active' });
    expect(kepts).toEqual([1, 1]);
    await run(29_999);
    expect(learner.snapshot().state).toBe('holding');
    await run(1);
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({});
  });

  it('a down watch while synced leaves the routes as they are', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')]);
    api.emit({ kind: 'down' });
    await run(600_000);
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
    expect(routes.ops).toEqual([]);
  });

  it('hold() keeps every installed route through a deliberate BGP restart until the peers are back', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2'), best('10.244.3.0/26', '10.10.0.3')], {
      maxHoldMs: 60_000,
    });
    expect(syncs).toBe(1);
    learner.hold();
    expect(learner.holding).toBe(true);
    expect(learner.snapshot()).toMatchObject({ state: 'holding', routes: [], peers: [] });
    expect(learner.snapshot().kept).toHaveLength(2);
    // StopBgp: sessions drop, their routes are withdrawn
    api.setPeerState('10.10.0.2', 'idle');
    api.learn([best('10.244.2.0/26'), best('10.244.3.0/26')]);
    expect(Object.keys(routes.table()).sort()).toEqual(['10.244.2.0/26', '10.244.3.0/26']);
    expect(routes.ops).toEqual([]);
    await run(5_000);
    expect(learner.snapshot().state).toBe('holding');
    // StartBgp, AddPeer: the session comes back with one of the two routes
    api.setPeerState('10.10.0.2', 'established');
    api.learn(best('10.244.2.0/26', '10.10.0.2'));
    await run(1_000);
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
    expect(syncs).toBe(2);
    expect(messages('info')).toContain('BGP restarting: learned routes kept until the peers are back');
  });

  it('hold() ends at maxHoldMs when the peers do not come back', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')], { maxHoldMs: 60_000 });
    learner.hold();
    api.setPeerState('10.10.0.2', 'idle');
    api.learn(best('10.244.2.0/26'));
    await run(59_999);
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
    await run(1);
    expect(learner.snapshot().state).toBe('synced');
    expect(routes.table()).toEqual({});
  });

  it('onReset is told how many routes are kept', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2'), best('10.244.3.0/26', '10.10.0.3')]);
    restartWatch([], {});
    expect(kepts).toEqual([0, 2]);
  });

  it('a peer that goes down again during the settle time delays the sync', async () => {
    newLearner().seed([gw('10.244.3.0/26', '10.10.0.3')]);
    learner.start();
    restartWatch([], { '10.10.0.2': 'established' });
    await run(500);
    api.setPeerState('10.10.0.2', 'active');
    await run(5_000);
    expect(learner.snapshot().state).toBe('holding');
    api.setPeerState('10.10.0.2', 'established');
    await run(1_000);
    expect(learner.snapshot().state).toBe('synced');
  });
});

describe('BgpLearner: verification', () => {
  it('fixes a missed event at the next period and logs it', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2'), best('10.244.3.0/26', '10.10.0.3')]);
    api.learn(
      [best('10.244.3.0/26'), best('10.244.4.0/26', '10.10.0.4'), best('10.244.2.0/26', '10.10.0.5')],
      {
        silent: true,
      },
    );
    await run(60_000);
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.5'], '10.244.4.0/26': ['10.10.0.4'] });
    expect(logs.find((l) => l.level === 'warn')).toMatchObject({
      obj: { fixed: 3 },
      msg: "learned routes differed from gobgpd's best paths (missed events): fixed",
    });
    expect(learner.snapshot().lastVerify).toEqual({ at: expect.any(Date), fixed: 3 });
  });

  it('verifies right after a sync', async () => {
    newLearner().start();
    api.emit({ kind: 'reset' });
    api.learn(best('10.244.2.0/26', '10.10.0.2'), { silent: true }); // the dump missed it
    api.emit({ kind: 'best', paths: [] }); // the dump
    api.setPeerState('10.10.0.2', 'established');
    await run(1_000);
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
    expect(api.methods().filter((m) => m === 'listBestPaths')).toHaveLength(2);
  });

  it('an event that arrives while the table is being listed wins over the listing', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')]);
    let release: () => void = () => {};
    const real = api.listBestPaths.bind(api);
    vi.spyOn(api, 'listBestPaths').mockImplementation(async (family) => {
      const listed = await real(family); // gobgpd's table as it was
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return listed;
    });
    await run(60_000);
    api.learn(best('10.244.2.0/26', '10.10.0.9'));
    release();
    await run();
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.9'] });
    expect(learner.snapshot().lastVerify?.fixed).toBe(0);
  });

  it('a sync during a periodic verification gets its own verification after it', async () => {
    newLearner().start();
    restartWatch([], { '10.10.0.2': 'active' });
    let release: () => void = () => {};
    const real = api.listBestPaths.bind(api);
    const spy = vi.spyOn(api, 'listBestPaths').mockImplementationOnce(async (family) => {
      const listed = await real(family);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return listed;
    });
    await run(60_000); // the periodic verification waits for its listing
    api.learn(best('10.244.2.0/26', '10.10.0.2'), { silent: true });
    api.setPeerState('10.10.0.2', 'established');
    await run(1_000);
    expect(learner.snapshot().state).toBe('synced');
    release();
    await run();
    expect(spy).toHaveBeenCalledTimes(4);
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
  });

  it('a failed listing is logged (once) and tried again at the next period', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')]);
    api.fail('listBestPaths', { times: 4 }); // both families, twice
    await run(60_000);
    expect(learner.snapshot().lastVerify?.error).toContain('injected failure');
    await run(60_000);
    expect(messages('warn')).toEqual(['verifying learned routes failed; retried at the next period']); // once
    await run(60_000);
    expect(learner.snapshot().lastVerify).toEqual({ at: expect.any(Date), fixed: 0 });
  });
});

describe('BgpLearner: lifecycle', () => {
  it('snapshot() shows the state, learned routes and peers', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')]);
    expect(learner.snapshot()).toEqual({
      state: 'synced',
      since: expect.any(Date),
      routes: [{ family: 4, prefix: '10.244.2.0/26', nextHops: ['10.10.0.2'] }],
      kept: [],
      peers: [{ address: '10.10.0.2', state: 'established', adminState: 'up' }],
      lastVerify: { at: expect.any(Date), fixed: 0 },
    });
  });

  it('stop() ends the watch and leaves the routes installed', async () => {
    await synced([best('10.244.2.0/26', '10.10.0.2')]);
    learner.stop();
    expect(api.watching).toBe(0);
    api.learn(best('10.244.2.0/26'));
    await run(120_000);
    expect(routes.table()).toEqual({ '10.244.2.0/26': ['10.10.0.2'] });
  });

  it('ignores seeds once synced, and seeds that are not gateway routes of the main table', async () => {
    newLearner().seed([
      gw('10.244.2.0/26', '10.10.0.2'),
      { family: 4, dst: '10.244.9.0/26', type: 'blackhole' },
      { ...gw('10.244.8.0/26', '10.10.0.2'), table: 100 },
    ]);
    expect(Object.keys(routes.table())).toEqual(['10.244.2.0/26']);
    learner.start();
    restartWatch([], { '10.10.0.2': 'established' });
    await run(1_000);
    learner.seed([gw('10.244.3.0/26', '10.10.0.3')]);
    expect(routes.table()).toEqual({});
    expect(messages('warn')).toContain('routes seeded after BGP synced: ignored');
  });
});
