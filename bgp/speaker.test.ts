// BgpSpeaker assembled on an in-memory datastore and a fake gobgpd (no supervisor, no kernel):
// the address annotations, the last good desired state, the GR restarting flag, stop().
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MemoryDatastore, memoryDatastore } from '../datastore/memory.js';
import type { NodeInfo } from '../datastore/resources.js';
import { type LogEntry, recordingLog } from '../felix/fake-log.js';
import type { RouteTable } from '../felix/routes/route-table.js';
import { FakeGobgp } from './fake-gobgp.js';
import { BGP_ADDRESS_ANNOTATION, BgpSpeaker, type BgpSpeakerOptions } from './speaker.js';

const V4 = BGP_ADDRESS_ANNOTATION[4];
const V6 = BGP_ADDRESS_ANNOTATION[6];

/** A supervisor whose start() waits until `up()` (or rejects when stopped first). */
class FakeSupervisor {
  stops = 0;
  #release: (() => void) | undefined;
  #reject: ((e: Error) => void) | undefined;
  constructor(private ready: boolean) {}
  start(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#release = resolve;
      this.#reject = reject;
    });
  }
  up(): void {
    this.ready = true;
    this.#release?.();
  }
  async stop(): Promise<void> {
    this.stops++;
    this.#reject?.(new Error('gobgpd supervisor stopped while starting'));
  }
}

const noRoutes = { setRoutes() {}, upsert() {}, remove() {} } as unknown as RouteTable;

let ds: MemoryDatastore;
let api: FakeGobgp;
let logs: LogEntry[];
let speaker: BgpSpeaker;
let annotateCalls: number[];

async function until<T>(what: string, get: () => T | Promise<T>, ms = 3_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const nodeInfo = async (name: string): Promise<NodeInfo | undefined> =>
  (await ds.listNodeInfos()).find((n) => n.name === name);
const warnings = () => logs.filter((l) => l.level === 'warn').map((l) => String(l.msg));

function newSpeaker(over: Partial<BgpSpeakerOptions> = {}): BgpSpeaker {
  const { log, entries } = recordingLog();
  logs = entries;
  speaker = new BgpSpeaker({
    ds,
    node: 'n1',
    mode: 'sidecar',
    gobgpdPath: '/nonexistent/gobgpd',
    apiAddress: 'unix:///nonexistent/gobgpd.sock',
    nodeIp: '10.0.0.1',
    nodeIpv6: 'fd00::1',
    routes: noRoutes,
    log,
    api,
    supervisor: () => new FakeSupervisor(true),
    republishIntervalMs: 200,
    learner: { settleMs: 10 },
    ...over,
  });
  return speaker;
}

/** gobgpd's watch starts: reset, the (empty) table, the peers' states. */
function watchUp(peers: string[]): void {
  api.emit({ kind: 'reset' });
  api.emit({ kind: 'best', paths: [] });
  for (const p of peers) api.setPeerState(p, 'established');
}

beforeEach(() => {
  ds = memoryDatastore();
  ds.setNodeInfo('n1', {});
  ds.setNodeInfo('n2', { annotations: { [V4]: '10.0.0.2' } });
  api = new FakeGobgp();
  annotateCalls = [];
  const annotate = ds.annotateNode.bind(ds);
  ds.annotateNode = async (name, annotations) => {
    annotateCalls.push(Date.now());
    return annotate(name, annotations);
  };
});

afterEach(async () => {
  await speaker?.stop();
});

describe('BgpSpeaker', () => {
  it('publishes its addresses, and again (rate-limited) when its Node loses them', async () => {
    await newSpeaker().start();
    expect((await nodeInfo('n1'))?.annotations).toEqual({ [V4]: '10.0.0.1', [V6]: 'fd00::1' });
    await until('the mesh peer', () => api.peers.has('10.0.0.2'));

    // The Node is re-created: no annotations.
    ds.setNodeInfo('n1', {});
    await until('the annotations again', async () => (await nodeInfo('n1'))?.annotations[V4] === '10.0.0.1');
    expect((await nodeInfo('n1'))?.annotations[V6]).toBe('fd00::1');
    expect(warnings()).toContain(
      "own Node lacks this node's BGP address annotations (re-created or edited): publishing them again",
    );
    // Meanwhile BGP was not turned off.
    expect(api.peers.has('10.0.0.2')).toBe(true);
    expect(api.methods()).not.toContain('deletePeer');
    expect(api.methods()).not.toContain('deletePaths');

    // Edited again at once: published again, but not within 200 ms of the last time.
    ds.setNodeInfo('n1', { annotations: { [V4]: '10.0.0.99' } });
    await until('the annotations fixed', async () => (await nodeInfo('n1'))?.annotations[V4] === '10.0.0.1');
    expect(annotateCalls).toHaveLength(3);
    const [, second, third] = annotateCalls as [number, number, number];
    expect(third - second).toBeGreaterThanOrEqual(195);
  });

  it('keeps the last good desired state while its Node is missing (never BGP off for a gap)', async () => {
    await newSpeaker().start();
    await until('the mesh peer', () => api.peers.has('10.0.0.2'));
    ds.setNodeInfo('n1', undefined);
    await until('the issue', () =>
      warnings().includes(
        'BGP configuration unusable for now: keeping the last good one (gobgpd is left as it is)',
      ),
    );
    await sleep(50);
    expect(api.peers.has('10.0.0.2')).toBe(true);
    expect(api.localPaths[4].size + api.peers.size).toBeGreaterThan(0);
    expect(api.methods()).not.toContain('deletePeer');
    expect(speaker.status().reconciler.enabled).toBe(true);
  });

  it('adds peers as restarting while routes are kept, and no longer once the learner synced', async () => {
    const s = newSpeaker();
    s.seed([{ family: 4, dst: '10.244.9.0/26', type: 'unicast', nexthops: [{ via: '10.0.0.2' }] }]);
    await s.start();
    const first = await until('the mesh peer', () => api.peers.get('10.0.0.2'));
    expect(first.config.gracefulRestart).toMatchObject({ localRestarting: true });

    watchUp(['10.0.0.2']);
    await until('synced', () => s.status().learner.state === 'synced');
    api.clearCalls();
    // A node joins: its peer gets our routes at once; the existing one is not touched.
    ds.setNodeInfo('n3', { annotations: { [V4]: '10.0.0.3' } });
    const joined = await until('the new peer', () => api.peers.get('10.0.0.3'));
    expect(joined.config.gracefulRestart).toMatchObject({ localRestarting: false });
    expect(api.methods()).not.toContain('updatePeer');
    expect(api.peers.get('10.0.0.2')?.config.gracefulRestart?.localRestarting).toBe(true);
  });

  it('the learner ignores next hops that are this node, in any spelling', async () => {
    const upserts: string[] = [];
    const routes = {
      setRoutes() {},
      upsert: (_s: string, r: { dst: string }) => upserts.push(r.dst),
      remove() {},
    };
    const s = newSpeaker({ routes: routes as unknown as RouteTable, nodeIpv6: 'FD00:0::1' });
    await s.start();
    watchUp([]);
    api.learn([
      { family: 6, prefix: 'fd00:244:9::/64', nextHops: ['fd00::1'], local: false },
      { family: 4, prefix: '10.244.9.0/26', nextHops: ['10.0.0.2'], local: false },
    ]);
    expect(upserts).toEqual(['10.244.9.0/26']);
  });

  it('stop() while the supervisor is starting ends start() at once; start() after stop() rejects', async () => {
    const sup = new FakeSupervisor(false);
    const s = newSpeaker({ supervisor: () => sup });
    const started = s.start();
    const rejected = expect(started).rejects.toThrow(/stopped/);
    await until('the supervisor starting', () => annotateCalls.length === 1);
    await sleep(10);
    const t0 = Date.now();
    await s.stop();
    await rejected;
    expect(Date.now() - t0).toBeLessThan(200);
    expect(sup.stops).toBeGreaterThanOrEqual(1);
    expect(api.closed).toBe(true);
    await expect(s.start()).rejects.toThrow(/stopped/);
  });
});
