// GobgpdSupervisor's pure parts and its state machine, driven with fake children and a fake
// API probe (the real gobgpd runs in test/integration/gobgp-client.test.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../felix/log.js';
import type { StreamingChild, StreamingExit, StreamingOptions } from '../kernel/index.js';
import {
  GobgpdSupervisor,
  type GobgpdSupervisorOptions,
  gobgpdArgv,
  gobgpdLogLine,
  RestartBackoff,
  unixSocketPath,
} from './gobgpd-process.js';

describe('pure parts', () => {
  it('backs off 200 ms → 5 s, and starts over after a stable run', () => {
    const b = new RestartBackoff({ initialMs: 200, maxMs: 5_000, stableMs: 30_000 });
    expect([0, 0, 0, 0, 0, 0, 0].map(() => b.next(10))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(b.next(30_000)).toBe(200);
    expect(b.next(1)).toBe(400);
  });

  it('finds the socket path of unix addresses', () => {
    expect(unixSocketPath('unix:///run/tabby/gobgpd.sock')).toBe('/run/tabby/gobgpd.sock');
    expect(unixSocketPath('unix:/tmp/x.sock')).toBe('/tmp/x.sock');
    expect(unixSocketPath('127.0.0.1:50051')).toBeUndefined();
  });

  it('runs gobgpd configured over gRPC only, optionally in a namespace', () => {
    const o = { gobgpdPath: '/usr/bin/gobgpd', apiAddress: '127.0.0.1:50051', logLevel: 'info' as const };
    expect(gobgpdArgv(o)).toEqual([
      '/usr/bin/gobgpd',
      '--api-hosts',
      '127.0.0.1:50051',
      '--pprof-disable',
      '--log-level',
      'info',
    ]);
    expect(gobgpdArgv({ ...o, apiAddress: 'unix:///t/a.sock', netns: 'tgb-1' }).slice(0, 7)).toEqual([
      'ip',
      'netns',
      'exec',
      'tgb-1',
      '/usr/bin/gobgpd',
      '--api-hosts',
      'unix:///t/a.sock',
    ]);
  });

  it('raises gobgpd warnings to warn, the rest stays debug', () => {
    const w = gobgpdLogLine(
      '{"Key":"10.0.0.2","Topic":"Peer","level":"warning","msg":"prefix limit 80% reached","time":"2026-01-01T00:00:00Z"}',
    );
    expect(w).toEqual({
      level: 'warn',
      msg: 'prefix limit 80% reached',
      fields: { Key: '10.0.0.2', Topic: 'Peer' },
    });
    expect(gobgpdLogLine('{"level":"info","msg":"Peer Up"}').level).toBe('debug');
    expect(gobgpdLogLine('plain text')).toEqual({ level: 'debug', msg: 'plain text' });
    expect(gobgpdLogLine('{broken')).toEqual({ level: 'debug', msg: '{broken' });
  });
});

// ---- the state machine ----

class FakeChild implements StreamingChild {
  readonly exited: Promise<StreamingExit>;
  kills: number[] = [];
  #resolve!: (e: StreamingExit) => void;
  #done = false;
  constructor(
    readonly argv: readonly string[],
    readonly opts: StreamingOptions,
    readonly pid: number,
  ) {
    this.exited = new Promise((r) => {
      this.#resolve = r;
    });
    queueMicrotask(() => opts.onSpawn?.(pid));
  }
  /** The process ends (crash, or the signal of kill()). */
  die(exit: StreamingExit = { code: null, signal: 'SIGKILL' }): void {
    if (this.#done) return;
    this.#done = true;
    this.opts.onExit(exit);
    this.#resolve(exit);
  }
  get alive(): boolean {
    return !this.#done;
  }
  async kill(graceMs = 1000): Promise<StreamingExit> {
    this.kills.push(graceMs);
    this.die({ code: 0, signal: null });
    return this.exited;
  }
}

function harness(o: Partial<GobgpdSupervisorOptions> = {}) {
  const children: FakeChild[] = [];
  const h = {
    children,
    /** Does the fake API answer? Default: while the newest child lives. */
    apiUp: undefined as boolean | undefined,
    restarts: 0,
    sup: undefined as unknown as GobgpdSupervisor,
  };
  h.sup = new GobgpdSupervisor({
    mode: 'spawn',
    apiAddress: 'unix:///nonexistent/tabby-test/gobgpd.sock',
    log: silentLogger(),
    backoff: { initialMs: 5, maxMs: 20, stableMs: 10_000 },
    pollMs: 5,
    readyTimeoutMs: 1_000,
    onRestart: () => h.restarts++,
    probe: async () => h.apiUp ?? children.at(-1)?.alive ?? false,
    spawn: (argv, opts) => {
      const c = new FakeChild(argv, opts, 1000 + children.length);
      children.push(c);
      return c;
    },
    ...o,
  });
  return h;
}

async function until(what: string, cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

describe('GobgpdSupervisor (spawn)', () => {
  it('starts a child, restarts it with backoff when it dies, and calls onRestart once it answers', async () => {
    const h = harness();
    await h.sup.start();
    expect(h.sup.state).toBe('running');
    expect(h.children).toHaveLength(1);
    expect(h.children[0]?.argv).toEqual([
      '/usr/bin/gobgpd',
      '--api-hosts',
      'unix:///nonexistent/tabby-test/gobgpd.sock',
      '--pprof-disable',
      '--log-level',
      'info',
    ]);
    expect(h.sup.pid).toBe(1000);
    expect(h.sup.restarts).toBe(0);
    expect(h.restarts).toBe(0);

    h.children[0]?.die(); // kill -9
    expect(h.sup.state).toBe('down');
    await until('the restart', () => h.sup.state === 'running');
    expect(h.children).toHaveLength(2);
    expect(h.sup.pid).toBe(1001);
    expect(h.sup.restarts).toBe(1);
    expect(h.restarts).toBe(1);

    await h.sup.stop();
    expect(h.children[1]?.kills).toEqual([5_000]);
    expect(h.sup.state).toBe('stopped');
    expect(h.sup.pid).toBeUndefined();
    await sleep(30);
    expect(h.children).toHaveLength(2); // no restart after stop
  });

  it('keeps restarting a child that dies at once, doubling the delay', async () => {
    const h = harness({ backoff: { initialMs: 5, maxMs: 40, stableMs: 10_000 } });
    await h.sup.start();
    const t0 = Date.now();
    for (let i = 0; i < 4; i++) {
      const n = h.children.length;
      h.children.at(-1)?.die();
      await until('a new child', () => h.children.length === n + 1);
    }
    // 5 + 10 + 20 + 40 ms at least between the four deaths and restarts
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
    await until('running', () => h.sup.state === 'running');
    expect(h.restarts).toBe(4);
    await h.sup.stop();
  });

  it('does not count a first child that dies before answering as a restart', async () => {
    const h = harness();
    h.apiUp = false;
    const started = h.sup.start();
    await until('the first child', () => h.children.length === 1);
    h.children[0]?.die({ code: 1, signal: null });
    await until('the second child', () => h.children.length === 2);
    h.apiUp = true;
    await started;
    expect(h.sup.restarts).toBe(0);
    expect(h.restarts).toBe(0);
    await h.sup.stop();
  });

  it('rejects start and kills the child when the API never answers', async () => {
    const h = harness({ readyTimeoutMs: 60 });
    h.apiUp = false;
    await expect(h.sup.start()).rejects.toThrow(/did not answer within 60 ms/);
    expect(h.sup.state).toBe('stopped');
    expect(h.children.every((c) => !c.alive)).toBe(true);
  });

  it('adopts a gobgpd that already answers, and starts its own when that one goes away', async () => {
    const h = harness();
    h.apiUp = true;
    await h.sup.start();
    expect(h.children).toHaveLength(0);
    expect(h.sup.state).toBe('running');
    h.apiUp = undefined; // from now on: up while our newest child lives (none yet: down)
    await until('our own child', () => h.children.length === 1 && h.sup.state === 'running');
    expect(h.restarts).toBe(1);
    await h.sup.stop();
    expect(h.children[0]?.kills).toEqual([5_000]);
  });

  it('says so when gobgpd is not installed', async () => {
    const h = harness({ spawn: undefined, gobgpdPath: '/nonexistent/tabby-test/gobgpd' });
    h.apiUp = false;
    await expect(h.sup.start()).rejects.toThrow(/gobgpd not found at \/nonexistent\/tabby-test\/gobgpd/);
    expect(h.sup.state).toBe('stopped');
  });

  it('refuses a namespace with a TCP API address (unreachable from outside it)', () => {
    expect(() => harness({ netns: 'tgb-x', apiAddress: '127.0.0.1:50051' })).toThrow(/unix:\/\/ socket/);
  });
});

describe('GobgpdSupervisor (external)', () => {
  it('waits for the sidecar, then calls onRestart when it comes back after going away', async () => {
    const h = harness({ mode: 'external' });
    h.apiUp = false;
    const started = h.sup.start();
    await sleep(20);
    expect(h.sup.state).toBe('starting');
    h.apiUp = true;
    await started;
    expect(h.sup.state).toBe('running');
    h.apiUp = false;
    await until('down', () => h.sup.state === 'down');
    expect(h.restarts).toBe(0);
    h.apiUp = true;
    await until('back', () => h.sup.state === 'running');
    expect(h.restarts).toBe(1);
    expect(h.sup.restarts).toBe(1);
    expect(h.children).toHaveLength(0); // never spawns
    await h.sup.stop();
  });
});

describe('GobgpdSupervisor: stop() while start() runs', () => {
  it('external: start rejects at once, even during a probe that hangs, and nothing polls after', async () => {
    let probes = 0;
    const h = harness({
      mode: 'external',
      readyTimeoutMs: 60_000,
      probe: () => {
        probes++;
        return new Promise<boolean>(() => {}); // a gobgpd that never answers
      },
    });
    const started = h.sup.start();
    const rejected = expect(started).rejects.toThrow(/stopped while starting/);
    await sleep(10);
    const t0 = Date.now();
    await h.sup.stop();
    await rejected;
    expect(Date.now() - t0).toBeLessThan(100);
    expect(h.sup.state).toBe('stopped');
    const seen = probes;
    await sleep(30);
    expect(probes).toBe(seen);
    expect(h.sup.state).toBe('stopped');
  });

  it('external: a sidecar answering right after stop() does not make it running', async () => {
    const h = harness({ mode: 'external' });
    h.apiUp = false;
    const started = h.sup.start();
    const rejected = expect(started).rejects.toThrow(/stopped while starting/);
    await sleep(10);
    await h.sup.stop();
    h.apiUp = true;
    await rejected;
    await sleep(30);
    expect(h.sup.state).toBe('stopped');
    expect(h.restarts).toBe(0);
  });

  it('spawn: start rejects and the child is killed', async () => {
    const h = harness({ readyTimeoutMs: 60_000 });
    h.apiUp = false;
    const started = h.sup.start();
    const rejected = expect(started).rejects.toThrow(/stopped while starting/);
    await until('the child', () => h.children.length === 1);
    await h.sup.stop();
    await rejected;
    expect(h.children.every((c) => !c.alive)).toBe(true);
    expect(h.sup.state).toBe('stopped');
  });
});
