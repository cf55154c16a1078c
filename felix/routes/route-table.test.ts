import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canonicalRoute, type KernelRoute, RouteSpecError } from '../../kernel/route-spec.js';
import { type FakeFailure, FakeKernel } from './fake-kernel.js';
import { routeMatches } from './route-key.js';
import { RouteTable } from './route-table.js';
import { type Route, RouteTableStoppedError } from './types.js';

const PROTO = 201;
const pod = (n: number, dev = `tby${n}`): Route => ({
  family: 4,
  dst: `10.244.1.${n}/32`,
  type: 'unicast',
  dev,
  scope: 'link',
});
const pod6 = (n: number, dev = `tby${n}`): Route => ({
  family: 6,
  dst: `2001:db8:1::${n}/128`,
  type: 'unicast',
  dev,
});
const block = (dst: string): Route => ({ family: dst.includes(':') ? 6 : 4, dst, type: 'blackhole' });
const learned = (dst: string, ...via: string[]): Route => ({
  family: 4,
  dst,
  type: 'unicast',
  nexthops: via.map((v) => ({ via: v })),
});

interface LogLine {
  level: string;
  msg: string;
}

function capturingLog(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino(
    { level: 'debug', formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  );
  return { log, lines };
}

let kernel: FakeKernel;
let logLines: LogLine[];
const tables: RouteTable[] = [];

function newTable(opts: { resyncIntervalMs?: number; missingDeviceGraceMs?: number } = {}): RouteTable {
  const { log, lines } = capturingLog();
  logLines = lines;
  const t = new RouteTable({ protocol: PROTO, log, kernel, ...opts });
  tables.push(t);
  return t;
}

const run = (ms: number) => vi.advanceTimersByTimeAsync(ms);

/** flush() with the fake clock running. */
async function flushed(t: RouteTable): Promise<void> {
  const done = t.flush();
  await run(5);
  await done;
}
const warnings = () => logLines.filter((l) => l.level === 'warn').map((l) => l.msg);

/** Whether the kernel's tabby routes are exactly `want`. */
function kernelHolds(want: Route[]): boolean {
  const have = kernel.tabbyRoutes();
  const canonical = want.map(canonicalRoute);
  return (
    have.length === canonical.length &&
    canonical.every((w) => have.some((h) => routeMatches(w, h))) &&
    have.every((h) => canonical.some((w) => routeMatches(w, h)))
  );
}

beforeEach(() => {
  vi.useFakeTimers();
  kernel = new FakeKernel(PROTO);
  for (const dev of ['tby1', 'tby2', 'tby3', 'tby7', 'tby8']) kernel.links.add(dev);
});

afterEach(async () => {
  for (const t of tables.splice(0)) await t.stop();
  vi.useRealTimers();
});

describe('RouteTable: desired state and passes', () => {
  it('start installs the desired routes (both families) with the protocol; setters alone do no I/O', async () => {
    const t = newTable();
    t.setRoutes('local', [pod(1), pod6(2)]);
    t.setRoutes('blocks', [block('10.244.1.0/26'), block('2001:db8:1::/122')]);
    await run(100);
    expect(kernel.batches).toHaveLength(0); // not started: nothing written
    await t.start();
    expect(kernel.batches).toHaveLength(1);
    expect(kernelHolds([pod(1), pod6(2), block('10.244.1.0/26'), block('2001:db8:1::/122')])).toBe(true);
    expect(kernel.routes.map((r) => r.protocol)).toEqual([PROTO, PROTO, PROTO, PROTO]);
    t.upsert('local', pod(3));
    expect(kernel.batches).toHaveLength(1); // the setter itself does no I/O
    await run(10);
    expect(kernel.batches).toHaveLength(2);
    expect(t.snapshot().desired).toHaveLength(5);
  });

  it('a burst of 50 upserts becomes one batch', async () => {
    const t = newTable();
    await t.start();
    const before = kernel.batches.length;
    for (let i = 1; i <= 50; i++) {
      kernel.links.add(`tbyb${i}`);
      t.upsert('local', pod(i + 100, `tbyb${i}`));
    }
    await run(50);
    expect(kernel.batches.length - before).toBe(1);
    expect(kernel.batches.at(-1)).toHaveLength(50);
  });

  it('concurrent flushes share one pass and one batch; flush covers changes made before it', async () => {
    const t = newTable();
    await t.start();
    const before = kernel.batches.length;
    t.upsert('local', pod(1));
    const a = t.flush();
    t.upsert('local', pod(2));
    const b = t.flush();
    const c = t.flush();
    await run(1);
    await Promise.all([a, b, c]);
    expect(kernel.batches.length - before).toBe(1);
    expect(kernelHolds([pod(1), pod(2)])).toBe(true);
    await t.flush(); // nothing changed: resolves without I/O
    expect(kernel.batches.length - before).toBe(1);
  });

  it('a flush during a pass waits for the next pass', async () => {
    const t = newTable();
    await t.start();
    t.upsert('local', pod(1));
    const first = t.flush();
    await Promise.resolve(); // let the pass begin
    t.upsert('local', pod(2));
    const second = t.flush();
    await run(5);
    await Promise.all([first, second]);
    expect(kernelHolds([pod(1), pod(2)])).toBe(true);
  });

  it('precedence: local > blocks > bgp; a lower source reappears when the higher withdraws', async () => {
    const t = newTable();
    await t.start();
    const dst = '10.244.1.8/32';
    t.setRoutes('bgp', [learned(dst, '198.18.0.1')]);
    t.setRoutes('blocks', [block(dst)]);
    t.upsert('local', pod(8));
    await run(10);
    expect(kernelHolds([pod(8)])).toBe(true);
    t.remove('local', 4, dst);
    await run(10);
    expect(kernelHolds([block(dst)])).toBe(true);
    t.setRoutes('blocks', []);
    await run(10);
    expect(kernelHolds([learned(dst, '198.18.0.1')])).toBe(true);
    // The gateway goes out as given; the device is the kernel's choice.
    expect(kernel.batches.at(-1)?.map((o) => o.route.nexthops)).toEqual([[{ via: '198.18.0.1' }]]);
    t.setRoutes('bgp', []);
    await run(10);
    expect(kernel.tabbyRoutes()).toEqual([]);
  });

  it('ECMP: renders several nexthops and stays converged when the kernel fills in devices', async () => {
    const t = newTable();
    t.setRoutes('bgp', [learned('10.244.2.0/26', '198.18.0.3', '198.18.0.1')]);
    await t.start();
    await run(200);
    expect(kernel.tabbyRoutes()[0]?.nexthops).toHaveLength(2);
    expect(kernel.batches).toHaveLength(1); // the echoed event matched; no rewrite, no resync writes
  });

  it('refuses an invalid route synchronously and keeps the previous set', () => {
    const t = newTable();
    t.setRoutes('local', [pod(1)]);
    expect(() => t.setRoutes('local', [pod(2), { ...pod(3), dst: '10.244.1.3/24' }])).toThrow(RouteSpecError);
    expect(() => t.upsert('local', { family: 4, dst: '10.0.0.0/8', type: 'unicast' })).toThrow(
      RouteSpecError,
    );
    expect(t.snapshot().desired.map((r) => r.dst)).toEqual(['10.244.1.1/32']);
  });
});

describe('RouteTable: ownership', () => {
  it('start removes stale tabby routes and never touches foreign ones', async () => {
    kernel.addForeign({ family: 4, dst: '10.99.0.0/24', type: 'unicast', nexthops: [{ via: '198.18.0.1' }] });
    kernel.addForeign({ family: 4, dst: '10.98.0.0/24', type: 'blackhole' }, 3);
    const t = newTable();
    kernel.routes.push({ ...canonicalRoute(pod(7)), table: 254, protocol: PROTO, metric: 0 } as KernelRoute);
    t.setRoutes('local', [pod(1)]);
    await t.start();
    await run(100);
    expect(kernelHolds([pod(1)])).toBe(true);
    expect(kernel.routes.filter((r) => r.protocol !== PROTO).map((r) => r.dst)).toEqual([
      '10.99.0.0/24',
      '10.98.0.0/24',
    ]);
  });

  it('a foreign route at a desired destination is not overwritten: a conflict, logged once, retried on resync', async () => {
    kernel.addForeign({
      family: 4,
      dst: '10.244.5.0/26',
      type: 'unicast',
      nexthops: [{ via: '198.18.0.9' }],
    });
    const t = newTable({ resyncIntervalMs: 1_000 });
    t.setRoutes('blocks', [block('10.244.5.0/26')]);
    await t.start();
    await run(100);
    const foreign = kernel.routes.filter((r) => r.dst === '10.244.5.0/26');
    expect(foreign).toHaveLength(1);
    expect(foreign[0]?.protocol).toBe(4);
    expect(t.snapshot().conflicts).toEqual([
      { route: canonicalRoute(block('10.244.5.0/26')), reason: expect.stringMatching(/another protocol/) },
    ]);
    await run(5_000); // several periodic resyncs
    expect(warnings().filter((m) => m.includes('foreign route holds'))).toHaveLength(1);
    const ops = kernel.batches.flat().filter((o) => o.route.dst === '10.244.5.0/26');
    expect(ops.every((o) => o.op === 'add')).toBe(true);
    expect(ops.length).toBeGreaterThanOrEqual(5); // retried on each resync, never replaced

    kernel.deleteByHand('10.244.5.0/26'); // the foreign route leaves: tabby's goes in at once
    await run(20);
    expect(kernelHolds([block('10.244.5.0/26')])).toBe(true);
    expect(t.snapshot().conflicts).toEqual([]);
  });

  it('a foreign route that replaces a tabby route is left alone (a conflict)', async () => {
    const t = newTable();
    t.setRoutes('blocks', [block('10.244.1.0/26')]);
    await t.start();
    kernel.deleteByHand('10.244.1.0/26');
    kernel.addForeign({
      family: 4,
      dst: '10.244.1.0/26',
      type: 'unicast',
      nexthops: [{ via: '198.18.0.9' }],
    });
    await run(200);
    expect(kernel.routes.find((r) => r.dst === '10.244.1.0/26')?.protocol).toBe(4);
    expect(t.snapshot().conflicts).toHaveLength(1);
  });
});

describe('RouteTable: kernel events', () => {
  it('a tabby route deleted by hand is back after one debounced resync', async () => {
    const t = newTable();
    t.setRoutes('local', [pod(1), pod(2)]);
    t.setRoutes('blocks', [block('10.244.1.0/26')]);
    await t.start();
    await run(100);
    const lists = kernel.lists;
    kernel.deleteByHand('10.244.1.1/32');
    kernel.deleteByHand('10.244.1.0/26');
    await run(60);
    expect(kernelHolds([pod(1), pod(2), block('10.244.1.0/26')])).toBe(true);
    expect(kernel.lists - lists).toBe(1); // two deletions, one resync
  });

  it('its own writes cause no resync', async () => {
    const t = newTable();
    await t.start();
    await run(100);
    const lists = kernel.lists;
    for (let round = 0; round < 5; round++) {
      t.setRoutes('local', [pod(1), pod(2), pod(3)].slice(0, 3 - (round % 2)));
      t.setRoutes('bgp', [learned('10.244.2.0/26', '198.18.0.1', `198.18.0.${round + 3}`)]);
      await run(50);
    }
    expect(kernel.lists).toBe(lists);
  });

  it('events that arrive during a pass are read after it (no resync from a race with its own writes)', async () => {
    const t = newTable();
    await t.start();
    await run(100);
    const lists = kernel.lists;
    kernel.applyLatencyMs = 3; // the echo of each write arrives before the batch's result
    t.setRoutes('local', [pod(1), pod(2)]);
    await flushed(t);
    t.setRoutes('local', [pod(1)]);
    await flushed(t);
    await run(100);
    expect(kernel.lists).toBe(lists);
  });

  it('a restarted monitor triggers a resync (events may have been missed)', async () => {
    const t = newTable();
    t.setRoutes('local', [pod(1)]);
    await t.start();
    await run(100);
    const lists = kernel.lists;
    kernel.routes = []; // lost while the monitor was down
    kernel.restartWatch();
    await run(100);
    expect(kernel.lists).toBe(lists + 1);
    expect(kernelHolds([pod(1)])).toBe(true);
  });

  it('the periodic resync repairs silent drift (IPv4 routes flushed with their link)', async () => {
    const t = newTable({ resyncIntervalMs: 1_000 });
    t.setRoutes('local', [pod(1)]);
    t.setRoutes('blocks', [block('10.244.1.0/26')]);
    await t.start();
    await run(100);
    kernel.routes = kernel.routes.filter((r) => r.dst !== '10.244.1.0/26'); // no event
    await run(400);
    expect(kernelHolds([pod(1)])).toBe(true);
    await run(600);
    expect(kernelHolds([pod(1), block('10.244.1.0/26')])).toBe(true);
  });
});

describe('RouteTable: devices', () => {
  it('a route whose device does not exist yet is pending, retried quietly, reported once after the grace period', async () => {
    const t = newTable({ missingDeviceGraceMs: 10_000 });
    await t.start();
    t.upsert('local', pod(40, 'tbynew'));
    await run(10);
    expect(t.snapshot().pending).toEqual([canonicalRoute(pod(40, 'tbynew'))]);
    const batches = kernel.batches.length;
    await run(5_000);
    expect(kernel.batches.length - batches).toBeGreaterThan(3); // retried
    expect(kernel.batches.length - batches).toBeLessThan(15); // with backoff
    expect(warnings()).toEqual([]);
    await run(6_000);
    expect(warnings()).toEqual(['route still waiting for its device; retried on resyncs']);
    const afterGrace = kernel.batches.length;
    await run(20_000);
    expect(kernel.batches.length).toBe(afterGrace); // now only on resyncs
    expect(warnings()).toHaveLength(1);

    kernel.addLink('tbynew'); // its link-local route event is the hint
    await run(20);
    expect(kernelHolds([pod(40, 'tbynew')])).toBe(true);
    expect(t.snapshot().pending).toEqual([]);
    expect(logLines.some((l) => l.msg === 'route installed after all')).toBe(true);
  });

  it('a route whose device vanished: gone silently, pending after a resync, and removing it succeeds', async () => {
    const t = newTable({ resyncIntervalMs: 1_000 });
    t.setRoutes('local', [pod(1), pod(2)]);
    await t.start();
    kernel.removeLink('tby2'); // the IPv4 route goes without an event
    t.setRoutes('local', [pod(1)]); // the cache still has it: a delete of a route already gone
    await flushed(t);
    expect(kernelHolds([pod(1)])).toBe(true);
    expect(warnings()).toEqual([]);
    expect(t.snapshot().kernel.map((r) => r.dst)).toEqual(['10.244.1.1/32']);

    kernel.removeLink('tby1');
    await run(1_100);
    expect(t.snapshot().pending.map((r) => r.dst)).toEqual(['10.244.1.1/32']);
  });
});

describe('RouteTable: failures', () => {
  const scenarios: [string, FakeFailure[]][] = [
    ['the first list fails', [{ kind: 'list' }]],
    ['the batch cannot run', [{ kind: 'batch' }]],
    ['the batch dies at its third op', [{ kind: 'abort', atOp: 2 }]],
    ['one add fails (EBUSY)', [{ kind: 'op', dst: '10.244.1.2/32', errno: 'EBUSY' }]],
    ['one delete fails (EBUSY)', [{ kind: 'op', dst: '10.244.1.9/32', errno: 'EBUSY' }]],
    [
      'one replace fails twice',
      [
        { kind: 'op', dst: '10.244.1.3/32', errno: 'EPERM' },
        { kind: 'op', dst: '10.244.1.3/32', errno: 'EPERM' },
      ],
    ],
    ['list and batch both fail', [{ kind: 'list' }, { kind: 'batch' }]],
  ];
  const want = [
    pod(1),
    pod(2),
    pod(3),
    pod6(7),
    block('10.244.1.0/26'),
    learned('10.244.2.0/26', '198.18.0.1'),
  ];

  for (const [name, failures] of scenarios) {
    it(`converges within 3 applies when ${name}; other keys are not held up`, async () => {
      // Start from drift: a stale route to delete, one to replace.
      kernel.routes.push(
        { ...canonicalRoute(pod(9)), table: 254, protocol: PROTO, metric: 0 } as KernelRoute,
        { ...canonicalRoute(pod(3, 'tby8')), table: 254, protocol: PROTO, metric: 0 } as KernelRoute,
      );
      for (const f of failures) kernel.failNext(f);
      const t = newTable();
      t.setRoutes('local', want.slice(0, 4));
      t.setRoutes('blocks', [want[4] as Route]);
      t.setRoutes('bgp', [want[5] as Route]);
      const started = t.start();
      await run(2_000);
      await started;
      expect(kernelHolds(want)).toBe(true);
      expect(kernel.batches.length).toBeLessThanOrEqual(3);
      if (failures[0]?.kind === 'op') {
        // The failing key did not hold up the others: they all went in with the first batch
        // (6 desired, one replaced, one stale deleted), and only it was retried.
        expect(kernel.batches[0]?.length).toBe(7);
        expect(kernel.batches.slice(1).every((b) => b.length === 1)).toBe(true);
      }
      expect(t.snapshot().conflicts).toEqual([]);
      expect(t.snapshot().pending).toEqual([]);
    });
  }

  it('a failing periodic resync backs off (no hot loop), warns once, and recovers', async () => {
    const t = newTable({ resyncIntervalMs: 1_000 });
    t.setRoutes('local', [pod(1)]);
    await t.start();
    await run(100);
    const lists = kernel.lists;
    for (let i = 0; i < 6; i++) kernel.failNext({ kind: 'list' });
    kernel.routes = []; // drift the failing lists cannot see
    await run(1_000 + 50 + 100 + 200 + 400 + 800 + 1_600 + 50);
    expect(kernel.lists - lists).toBeGreaterThanOrEqual(7);
    expect(kernel.lists - lists).toBeLessThanOrEqual(9);
    expect(warnings()).toEqual(['route resync failed; retrying']);
    expect(kernelHolds([pod(1)])).toBe(true);
    t.upsert('local', pod(2)); // changes still go through while lists fail
    await flushed(t);
    expect(kernelHolds([pod(1), pod(2)])).toBe(true);
  });

  it('an add that finds tabby’s own route (a stale cache) is settled by one resync, not reported', async () => {
    const t = newTable();
    await t.start();
    await run(100);
    // A tabby route appears without an event: the cache does not know it.
    kernel.routes.push({ ...canonicalRoute(pod(1)), table: 254, protocol: PROTO, metric: 0 } as KernelRoute);
    t.upsert('local', pod(1));
    await run(10);
    expect(t.snapshot().conflicts).toHaveLength(1); // EEXIST: unconfirmed for now
    await run(100);
    expect(t.snapshot().conflicts).toEqual([]);
    expect(kernelHolds([pod(1)])).toBe(true);
    expect(warnings()).toEqual([]);
  });

  it('start gives up after its attempts when the kernel cannot be listed', async () => {
    for (let i = 0; i < 3; i++) kernel.failNext({ kind: 'list' });
    const t = newTable();
    const started = t.start().catch((e: unknown) => e);
    await run(1_000);
    expect(await started).toMatchObject({ errno: 'EUNKNOWN' });
  });
});

describe('RouteTable: lifecycle', () => {
  it('stop leaves routes in place, ends the watch, rejects flushes; a new table changes nothing', async () => {
    const want = [
      pod(1),
      pod6(2),
      block('10.244.1.0/26'),
      learned('10.244.2.0/26', '198.18.0.1', '198.18.0.3'),
    ];
    const first = newTable();
    first.setRoutes('local', want.slice(0, 2));
    first.setRoutes('blocks', [want[2] as Route]);
    first.setRoutes('bgp', [want[3] as Route]);
    await first.start();
    await run(100);
    expect(kernel.watching).toBe(1);
    await first.stop();
    expect(kernel.watching).toBe(0);
    expect(kernelHolds(want)).toBe(true);
    await expect(first.flush()).rejects.toBeInstanceOf(RouteTableStoppedError);
    await run(100);
    expect(vi.getTimerCount()).toBe(0);

    const ops = kernel.opCount;
    const second = newTable();
    second.setRoutes('local', want.slice(0, 2));
    second.setRoutes('blocks', [want[2] as Route]);
    second.setRoutes('bgp', [want[3] as Route]);
    await second.start();
    await flushed(second);
    await run(200);
    expect(kernel.opCount).toBe(ops);
  });

  it('stop during start: start rejects and does no I/O after stop', async () => {
    kernel.failNext({ kind: 'list' });
    const t = newTable();
    const started = t.start().catch((e: unknown) => e);
    await run(1); // the first list failed; start sleeps before its next attempt
    await t.stop();
    const lists = kernel.lists;
    await run(1_000);
    expect(await started).toBeInstanceOf(RouteTableStoppedError);
    expect(kernel.lists).toBe(lists);
    expect(kernel.watching).toBe(0);
  });

  it('a flush waiting when the table stops is rejected', async () => {
    const t = newTable();
    t.upsert('local', pod(1));
    const waiting = t.flush(); // before start: waits for the first pass
    await t.stop();
    await expect(waiting).rejects.toBeInstanceOf(RouteTableStoppedError);
  });
});
