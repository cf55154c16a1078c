// The route table on a real kernel: a test-owned namespace pair (`tbyr-*`, node ↔ peer over a
// veth, pod veths from the node into the peer), routes with protocol 201, routes deleted by hand,
// foreign routes, ECMP, restarts, devices that come late or go, and nothing left behind.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KernelPort, linuxKernelPort } from '../../felix/routes/kernel-port.js';
import { routeMatches } from '../../felix/routes/route-key.js';
import { RouteTable } from '../../felix/routes/route-table.js';
import type { Route } from '../../felix/routes/types.js';
import {
  addNetns,
  applyRouteBatch,
  canonicalRoute,
  createVethPair,
  deleteNetns,
  ip,
  type KernelRoute,
  listNetns,
  listRoutes,
  RouteMonitor,
} from '../../kernel/index.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';

const PROTO = 201;

interface LogLine {
  level: string;
  msg: string;
}

function capturingLog(lines: LogLine[]): pino.Logger {
  return pino(
    { level: 'info', formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  );
}

/** Live processes whose command line mentions `text` (e.g. an `ip -n NS monitor`). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && cmdline.includes(text)) found.push(`${entry}: ${cmdline.trim()}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function countingPort(inner: KernelPort): {
  port: KernelPort;
  counts: { lists: number; batches: number; ops: number };
} {
  const counts = { lists: 0, batches: 0, ops: 0 };
  return {
    counts,
    port: {
      listRoutes: () => {
        counts.lists++;
        return inner.listRoutes();
      },
      applyRoutes: (ops) => {
        counts.batches++;
        counts.ops += ops.length;
        return inner.applyRoutes(ops);
      },
      watchRoutes: (handlers) => inner.watchRoutes(handlers),
    },
  };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 2_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(2);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const report = (line: string) => process.stderr.write(`route-table: ${line}\n`);

/** This run's namespaces: `${base}-n` (the node) and `${base}-p` (its peer and the pods). */
const base = uniqueName('tbyr');

describe.skipIf(!isRoot)(`route table on a real kernel (${ROOT_REASON})`, () => {
  const node = `${base}-n`;
  const peer = `${base}-p`;
  const tables: RouteTable[] = [];
  let logLines: LogLine[] = [];

  const pod = (n: number, dev = `tbyab0${n}`): Route => ({
    family: 4,
    dst: `10.244.1.${n}/32`,
    type: 'unicast',
    dev,
    scope: 'link',
  });
  const pod6 = (n: number, dev = `tbyab0${n}`): Route => ({
    family: 6,
    dst: `2001:db8:1::${n}/128`,
    type: 'unicast',
    dev,
  });
  const blackhole = (dst: string): Route => ({ family: dst.includes(':') ? 6 : 4, dst, type: 'blackhole' });
  const ecmp4: Route = {
    family: 4,
    dst: '10.244.2.0/26',
    type: 'unicast',
    nexthops: [{ via: '198.18.0.3' }, { via: '198.18.0.1' }],
  };
  const ecmp6: Route = {
    family: 6,
    dst: '2001:db8:2::/122',
    type: 'unicast',
    nexthops: [{ via: '2001:db8:ff::2' }, { via: '2001:db8:ff::3' }],
  };

  function newTable(opts: { resyncIntervalMs?: number; kernel?: KernelPort } = {}): RouteTable {
    const t = new RouteTable({ netns: node, protocol: PROTO, log: capturingLog(logLines), ...opts });
    tables.push(t);
    return t;
  }

  const tabbyRoutes = () => listRoutes(node, { protocol: PROTO });
  const has = async (want: Route) => (await tabbyRoutes()).some((r) => routeMatches(canonicalRoute(want), r));

  async function holdsExactly(want: Route[]): Promise<boolean> {
    const have = await tabbyRoutes();
    const canonical = want.map(canonicalRoute);
    return (
      have.length === canonical.length &&
      canonical.every((w) => have.some((h) => routeMatches(w, h))) &&
      have.every((h) => canonical.some((w) => routeMatches(w, h)))
    );
  }

  async function podVeth(n: number): Promise<void> {
    await createVethPair({ netns: node, name: `tbyab0${n}` }, { netns: peer, name: `pod${n}` });
    await ip(node, ['link', 'set', `tbyab0${n}`, 'up']);
    await ip(peer, ['link', 'set', `pod${n}`, 'up']);
  }

  beforeAll(async () => {
    try {
      await addNetns(node);
      await addNetns(peer);
      await createVethPair({ netns: node, name: 'up0' }, { netns: peer, name: 'up0' });
      await ip(
        node,
        ['-batch', '-'],
        [
          'link set up0 up',
          'address add 198.18.0.0/31 dev up0',
          'address add 198.18.0.2/31 dev up0',
          'address add 2001:db8:ff::1/64 dev up0 nodad',
          '',
        ].join('\n'),
      );
      await ip(
        peer,
        ['-batch', '-'],
        [
          'link set up0 up',
          'address add 198.18.0.1/31 dev up0',
          'address add 198.18.0.3/31 dev up0',
          'address add 2001:db8:ff::2/64 dev up0 nodad',
          'address add 2001:db8:ff::3/64 dev up0 nodad',
          '',
        ].join('\n'),
      );
      for (const n of [1, 2, 3]) await podVeth(n);
    } catch (e) {
      await deleteNetns(node).catch(() => {});
      await deleteNetns(peer).catch(() => {});
      throw e;
    }
  });

  afterEach(async () => {
    for (const t of tables.splice(0)) await t.stop();
    logLines = [];
    // Each test starts from a FIB without tabby routes.
    const left = await tabbyRoutes();
    await applyRouteBatch(
      node,
      left.map((route) => ({ op: 'delete' as const, route, protocol: PROTO })),
    );
  });

  afterAll(async () => {
    for (const t of tables.splice(0)) await t.stop().catch(() => {});
    await deleteNetns(node);
    await deleteNetns(peer);
  });

  it('installs local /32s and /128s and block blackholes with protocol 201', async () => {
    const want = [pod(1), pod(2), pod6(1), blackhole('10.244.1.0/26'), blackhole('2001:db8:1::/122')];
    const t = newTable();
    t.setRoutes('local', [pod(1), pod(2), pod6(1)]);
    t.setRoutes('blocks', [blackhole('10.244.1.0/26'), blackhole('2001:db8:1::/122')]);
    await t.start();
    expect(await holdsExactly(want)).toBe(true);
    const { stdout: v4 } = await ip(node, ['route', 'show']);
    expect(v4).toContain('10.244.1.1 dev tbyab01 proto 201 scope link');
    expect(v4).toContain('blackhole 10.244.1.0/26 proto 201');
    const { stdout: v6 } = await ip(node, ['-6', 'route', 'show']);
    expect(v6).toContain('2001:db8:1::1 dev tbyab01 proto 201');
    expect(v6).toContain('blackhole 2001:db8:1::/122 dev lo proto 201');
    expect(t.snapshot()).toMatchObject({ conflicts: [], pending: [] });
  });

  it('a route deleted by hand is back within 1 s', async () => {
    const t = newTable();
    t.setRoutes('local', [pod(1), pod6(2)]);
    t.setRoutes('blocks', [blackhole('10.244.1.0/26')]);
    await t.start();
    await sleep(100); // past the resync that follows the monitor's start
    const times: number[] = [];
    for (const [route, args] of [
      [pod(1), ['route', 'del', '10.244.1.1/32']],
      [blackhole('10.244.1.0/26'), ['route', 'del', 'blackhole', '10.244.1.0/26']],
      [pod6(2), ['-6', 'route', 'del', '2001:db8:1::2/128']],
    ] as const) {
      await ip(node, [...args]);
      times.push(await until(`${route.dst} back`, () => has(route), 1_000));
    }
    report(`hand-deleted route back after ${times.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}`);
    expect(Math.max(...times)).toBeLessThan(1_000);
  });

  it('foreign routes with other destinations are untouched by resyncs', async () => {
    await ip(node, ['route', 'add', '10.99.0.0/24', 'via', '198.18.0.1', 'proto', 'static']);
    await ip(node, ['route', 'add', '10.98.0.0/24', 'via', '198.18.0.1']); // proto boot
    await ip(node, ['route', 'add', '2001:db8:99::/64', 'via', '2001:db8:ff::2', 'proto', 'static']);
    const foreign = async () =>
      (await ip(node, ['route', 'show', 'table', 'all'])).stdout
        .split('\n')
        .filter((l) => /10\.9[89]\.0\.0|2001:db8:99::/.test(l))
        .sort();
    const before = await foreign();
    expect(before).toHaveLength(3);
    const t = newTable({ resyncIntervalMs: 100 });
    t.setRoutes('local', [pod(1)]);
    await t.start();
    await ip(node, ['route', 'del', '10.244.1.1/32']); // plus an event-driven resync
    await sleep(600);
    expect(await foreign()).toEqual(before);
    expect(await holdsExactly([pod(1)])).toBe(true);
    await ip(node, ['route', 'del', '10.99.0.0/24']);
    await ip(node, ['route', 'del', '10.98.0.0/24']);
    await ip(node, ['-6', 'route', 'del', '2001:db8:99::/64']);
  });

  it('a foreign route at a desired destination is not overwritten and is reported as a conflict', async () => {
    await ip(node, ['route', 'add', '10.244.5.0/26', 'via', '198.18.0.1', 'proto', 'static']);
    await ip(node, ['-6', 'route', 'add', '2001:db8:5::/122', 'via', '2001:db8:ff::2', 'proto', 'static']);
    const t = newTable({ resyncIntervalMs: 200 });
    t.setRoutes('blocks', [
      blackhole('10.244.5.0/26'),
      blackhole('2001:db8:5::/122'),
      blackhole('10.244.1.0/26'),
    ]);
    await t.start();
    await sleep(500); // a few resyncs
    expect(await holdsExactly([blackhole('10.244.1.0/26')])).toBe(true);
    const { stdout } = await ip(node, ['route', 'show', '10.244.5.0/26']);
    expect(stdout.trim()).toBe('10.244.5.0/26 via 198.18.0.1 dev up0 proto static');
    const { stdout: v6 } = await ip(node, ['-6', 'route', 'show', '2001:db8:5::/122']);
    expect(v6).toContain('via 2001:db8:ff::2 dev up0 proto static');
    expect(
      t
        .snapshot()
        .conflicts.map((c) => c.route.dst)
        .sort(),
    ).toEqual(['10.244.5.0/26', '2001:db8:5::/122']);
    expect(logLines.filter((l) => l.msg.includes('foreign route holds'))).toHaveLength(2); // once each

    // The foreign route leaves: tabby's goes in (the deletion event frees the slot).
    await ip(node, ['route', 'del', '10.244.5.0/26', 'proto', 'static']);
    const ms = await until(
      'the blackhole after the foreign route left',
      () => has(blackhole('10.244.5.0/26')),
      1_000,
    );
    report(`conflicted slot taken ${ms.toFixed(1)} ms after the foreign route left`);
    // The kernel may show the route a moment before the table has read its batch's result.
    await until(
      'the IPv4 conflict cleared',
      async () =>
        t
          .snapshot()
          .conflicts.map((c) => c.route.dst)
          .join() === '2001:db8:5::/122',
      1_000,
    );
    await ip(node, ['-6', 'route', 'del', '2001:db8:5::/122', 'proto', 'static']);
  });

  it('ECMP routes (both families) render and list back equal', async () => {
    const t = newTable();
    t.setRoutes('bgp', [ecmp4, ecmp6]);
    await t.start();
    const listed = await tabbyRoutes();
    const v4 = listed.find((r) => r.dst === '10.244.2.0/26');
    const v6 = listed.find((r) => r.dst === '2001:db8:2::/122');
    expect(v4?.nexthops).toEqual([
      { via: '198.18.0.1', dev: 'up0' },
      { via: '198.18.0.3', dev: 'up0' },
    ]);
    expect(v6?.nexthops).toEqual([
      { via: '2001:db8:ff::2', dev: 'up0' },
      { via: '2001:db8:ff::3', dev: 'up0' },
    ]);
    expect(routeMatches(canonicalRoute(ecmp4), v4 as KernelRoute)).toBe(true);
    expect(routeMatches(canonicalRoute(ecmp6), v6 as KernelRoute)).toBe(true);
    const { stdout } = await ip(node, ['route', 'show', '10.244.2.0/26']);
    expect(stdout).toMatch(
      /nexthop via 198\.18\.0\.1 dev up0 weight 1[\s\S]*nexthop via 198\.18\.0\.3 dev up0/,
    );
  });

  it('stop() then a new table on the same kernel state changes nothing', async () => {
    const want = {
      local: [pod(1), pod(2), pod6(1)],
      blocks: [blackhole('10.244.1.0/26')],
      bgp: [ecmp4, ecmp6],
    };
    const first = newTable();
    for (const [source, routes] of Object.entries(want)) first.setRoutes(source as 'local', routes);
    await first.start();
    await first.flush();
    await first.stop();
    expect(processesMentioning(`${node} -N monitor`)).toEqual([]);

    const events: string[] = [];
    const monitor = new RouteMonitor({ netns: node, onLine: (l) => events.push(l) }).start();
    await sleep(50);
    const { port, counts } = countingPort(linuxKernelPort(node, PROTO));
    const second = newTable({ kernel: port });
    for (const [source, routes] of Object.entries(want)) second.setRoutes(source as 'local', routes);
    await second.start();
    await second.flush();
    await sleep(300);
    await monitor.stop();
    expect(counts.ops).toBe(0);
    expect(counts.lists).toBeGreaterThanOrEqual(1);
    expect(events.filter((l) => l.includes(`proto ${PROTO}`))).toEqual([]);
  });

  it('a route waits for a device that does not exist yet, and goes in when it appears', async () => {
    const t = newTable();
    await t.start();
    const late = pod(9);
    t.upsert('local', late);
    await t.flush();
    expect(t.snapshot().pending.map((r) => r.dst)).toEqual([late.dst]);
    await podVeth(9);
    const ms = await until('the route on the new veth', () => has(late), 1_000);
    report(`pending route installed ${ms.toFixed(1)} ms after its veth came up`);
    expect(t.snapshot().pending).toEqual([]);
    expect(logLines.filter((l) => l.level === 'warn')).toEqual([]);
    await ip(node, ['link', 'del', 'tbyab09']);
  });

  it('a route whose device vanished: deleting it is a success, re-adding it waits', async () => {
    await podVeth(4);
    const t = newTable({ resyncIntervalMs: 200 });
    t.setRoutes('local', [pod(1), pod(4), pod6(4)]);
    await t.start();
    expect(await holdsExactly([pod(1), pod(4), pod6(4)])).toBe(true);
    await ip(node, ['link', 'del', 'tbyab04']); // IPv4 routes go silently, IPv6 with events
    t.setRoutes('local', [pod(1)]);
    await t.flush();
    expect(await holdsExactly([pod(1)])).toBe(true);
    expect(logLines.filter((l) => l.level === 'warn')).toEqual([]);
    t.setRoutes('local', [pod(1), pod(4)]);
    await t.flush();
    expect(t.snapshot().pending.map((r) => r.dst)).toEqual([pod(4).dst]);
  });

  it('one batch: a missing ECMP nexthop device fails only its own line', async () => {
    const ops = [
      { op: 'add' as const, route: canonicalRoute(pod(1)), protocol: PROTO },
      {
        op: 'add' as const,
        route: canonicalRoute({
          ...ecmp4,
          nexthops: [
            { via: '198.18.0.1', dev: 'up0' },
            { via: '198.18.0.3', dev: 'nosuch0' },
          ],
        }),
        protocol: PROTO,
      },
      { op: 'add' as const, route: canonicalRoute(pod(2)), protocol: PROTO },
      { op: 'add' as const, route: canonicalRoute(pod(2)), protocol: PROTO },
      {
        op: 'delete' as const,
        route: { ...canonicalRoute(pod(3)), table: 254, protocol: PROTO, metric: 0 },
        protocol: PROTO,
      },
    ];
    const results = await applyRouteBatch(node, ops);
    expect(results.map((r) => (r.ok ? (r.alreadyGone ? 'gone' : 'ok') : r.failure))).toEqual([
      'ok',
      'device-unavailable',
      'ok',
      'exists',
      'gone',
    ]);
    expect(await holdsExactly([pod(1), pod(2)])).toBe(true);
  });

  it('1000 routes: one batch, one list', async () => {
    const routes: Route[] = [];
    for (let i = 0; i < 1000; i++) {
      routes.push({
        family: 4,
        dst: `10.246.${i >> 8}.${i & 255}/32`,
        type: 'unicast',
        dev: `tbyab0${1 + (i % 3)}`,
      });
    }
    const ops = routes.map((r) => ({ op: 'add' as const, route: canonicalRoute(r), protocol: PROTO }));
    let started = performance.now();
    const results = await applyRouteBatch(node, ops);
    const batchMs = performance.now() - started;
    expect(results.every((r) => r.ok)).toBe(true);
    started = performance.now();
    expect(await tabbyRoutes()).toHaveLength(1000);
    const listMs = performance.now() - started;
    await applyRouteBatch(
      node,
      (await tabbyRoutes()).map((route) => ({ op: 'delete' as const, route, protocol: PROTO })),
    );

    const { port, counts } = countingPort(linuxKernelPort(node, PROTO));
    const t = newTable({ kernel: port });
    await t.start();
    started = performance.now();
    t.setRoutes('local', routes);
    await t.flush();
    const tableMs = performance.now() - started;
    expect(counts.batches).toBe(1);
    expect(await tabbyRoutes()).toHaveLength(1000);
    const lists = counts.lists;
    await sleep(300); // the echo of 1000 writes agrees with the cache: no resync
    expect(counts.lists).toBe(lists);
    expect(counts.batches).toBe(1);
    report(
      `1000 routes: ip -batch ${batchMs.toFixed(1)} ms, list ${listMs.toFixed(1)} ms, ` +
        `RouteTable setRoutes+flush ${tableMs.toFixed(1)} ms`,
    );
  });

  it('the route monitor restarts when its child dies, and stop() leaves no process', async () => {
    const pids: number[] = [];
    const monitor = new RouteMonitor({
      netns: node,
      onLine: () => {},
      onStart: (pid) => pids.push(pid),
      backoff: { initialMs: 20, maxMs: 100, stableMs: 10_000 },
    }).start();
    await until('the monitor', async () => pids.length === 1);
    process.kill(pids[0] as number, 'SIGKILL');
    await until('the restarted monitor', async () => pids.length === 2);
    expect(pids[1]).not.toBe(pids[0]);
    await monitor.stop();
    expect(processesMentioning(`${node} -N monitor`)).toEqual([]);
  });

  it('leaves nothing behind: no monitor process, and (after afterAll) no namespace', async () => {
    for (const t of tables.splice(0)) await t.stop();
    expect(processesMentioning(`${node} -N monitor`)).toEqual([]);
    expect((await listNetns()).filter((n) => n.startsWith(base)).sort()).toEqual([node, peer].sort());
  });
});

describe.skipIf(!isRoot)('route-table namespaces', () => {
  it('no namespace of the suite above survives it', async () => {
    // Runs after the suite above (and its afterAll) in file order.
    expect((await listNetns()).filter((n) => n.startsWith(base))).toEqual([]);
  });
});
