import { describe, expect, it } from 'vitest';
import type { Watch } from '../datastore/datastore.js';
import { DatastoreError } from '../datastore/errors.js';
import { recordingLog } from '../felix/fake-log.js';
import { Feed, type FeedEvent, type FeedSource } from './inputs-feed.js';

interface Obj {
  name: string;
  v: number;
}

/** A source driven by the test: lists answer `state`, watches can be fed and ended. */
class FakeSource implements FeedSource<Obj> {
  what = 'Objs';
  state = new Map<string, Obj>();
  version = 0;
  lists = 0;
  watches: {
    onEvent: (e: FeedEvent<Obj>) => void;
    from?: string;
    end: (e?: Error) => void;
    stopped: boolean;
  }[] = [];
  failLists = 0;
  /** Runs during the next list, before it answers (to race events against it). */
  duringList: (() => void) | undefined;

  constructor(readonly watchFirst = false) {}

  async list() {
    this.lists += 1;
    if (this.failLists > 0) {
      this.failLists -= 1;
      throw new DatastoreError('Unavailable', 'list failed');
    }
    const items = [...this.state.values()].map((o) => ({ ...o }));
    const during = this.duringList;
    this.duringList = undefined;
    during?.();
    return this.watchFirst ? { items } : { items, resourceVersion: String(this.version) };
  }

  async watch(onEvent: (e: FeedEvent<Obj>) => void, from?: string): Promise<Watch> {
    let resolve: (e: Error | undefined) => void = () => {};
    const done = new Promise<Error | undefined>((r) => {
      resolve = r;
    });
    const w = { onEvent, from, end: (e?: Error) => resolve(e), stopped: false };
    this.watches.push(w);
    return {
      done,
      stop: async () => {
        w.stopped = true;
        resolve(undefined);
      },
    };
  }

  key = (o: Obj) => o.name;

  /** Changes the state and tells the live watches. */
  set(type: FeedEvent<Obj>['type'], o: Obj): void {
    this.version += 1;
    if (type === 'DELETED') this.state.delete(o.name);
    else this.state.set(o.name, o);
    for (const w of this.watches) if (!w.stopped) w.onEvent({ type, object: { ...o } });
  }

  get live() {
    const w = this.watches.at(-1);
    if (!w || w.stopped) throw new Error('no live watch');
    return w;
  }
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const values = (f: Feed<Obj, number>) => Object.fromEntries([...f.items.entries()].sort());

function feed(src: FakeSource, map: (o: Obj) => number | undefined = (o) => o.v) {
  let changes = 0;
  const { log, entries } = recordingLog();
  const f = new Feed<Obj, number>(src, map, () => changes++, log, { initialMs: 1, maxMs: 5 });
  return { f, changes: () => changes, log: { entries } };
}

describe('Feed', () => {
  it('lists, then watches from the list version; events update the items', async () => {
    const src = new FakeSource();
    src.set('ADDED', { name: 'a', v: 1 });
    src.set('ADDED', { name: 'skip', v: -1 });
    const { f, changes } = feed(src, (o) => (o.v < 0 ? undefined : o.v));
    f.start();
    await until(() => f.synced);
    expect(values(f)).toEqual({ a: 1 });
    expect(src.live.from).toBe('2');
    expect(changes()).toBe(1);
    src.set('MODIFIED', { name: 'a', v: 2 });
    src.set('ADDED', { name: 'b', v: 3 });
    src.set('DELETED', { name: 'a', v: 2 });
    expect(values(f)).toEqual({ b: 3 });
    expect(changes()).toBe(4);
    await f.stop();
    expect(src.watches.every((w) => w.stopped)).toBe(true);
  });

  it('watch-first sources: events that arrive during the list are applied after it, in order', async () => {
    const src = new FakeSource(true);
    src.set('ADDED', { name: 'a', v: 1 });
    src.set('ADDED', { name: 'gone', v: 1 });
    src.duringList = () => {
      // The list answers the state from before these.
      src.watches[0]?.onEvent({ type: 'MODIFIED', object: { name: 'a', v: 2 } });
      src.watches[0]?.onEvent({ type: 'DELETED', object: { name: 'gone', v: 1 } });
      src.watches[0]?.onEvent({ type: 'ADDED', object: { name: 'new', v: 5 } });
    };
    const { f } = feed(src);
    f.start();
    await until(() => f.synced);
    expect(src.lists).toBe(1);
    expect(src.watches[0]?.from).toBeUndefined();
    expect(values(f)).toEqual({ a: 2, new: 5 });
    await f.stop();
  });

  it('a failed list is retried with backoff and a warning', async () => {
    const src = new FakeSource();
    src.failLists = 2;
    src.set('ADDED', { name: 'a', v: 1 });
    const { f, log } = feed(src);
    f.start();
    await until(() => f.synced);
    expect(src.lists).toBe(3);
    expect(values(f)).toEqual({ a: 1 });
    expect(log.entries.filter((e) => e.level === 'warn')).toHaveLength(2);
    await f.stop();
  });

  it('a watch that ends lists again (at once after 410 Gone) and catches up with what it missed', async () => {
    const src = new FakeSource();
    src.set('ADDED', { name: 'a', v: 1 });
    const { f, log } = feed(src);
    f.start();
    await until(() => f.synced);
    const first = src.live;
    first.stopped = true; // the stream is cut: these changes are not delivered
    src.set('DELETED', { name: 'a', v: 1 });
    src.set('ADDED', { name: 'b', v: 2 });
    first.end(new DatastoreError('Conflict', 'too old resource version', 410));
    await until(() => src.watches.length === 2);
    await until(() => values(f).b === 2);
    expect(values(f)).toEqual({ b: 2 });
    expect(log.entries.filter((e) => e.level === 'warn')).toHaveLength(0);
    // Another error: relisted after a backoff, with a warning.
    src.live.end(new DatastoreError('Unavailable', 'connection reset'));
    await until(() => src.watches.length === 3);
    expect(log.entries.filter((e) => e.level === 'warn')).toHaveLength(1);
    await f.stop();
  });

  it('relist replaces the items with a fresh read', async () => {
    const src = new FakeSource();
    const { f, changes } = feed(src);
    f.start();
    await until(() => f.synced);
    await f.relist(async () => [{ name: 'x', v: 9 }]);
    expect(values(f)).toEqual({ x: 9 });
    expect(changes()).toBe(2);
    await f.stop();
  });

  it('stop while listing leaves no watch open', async () => {
    const src = new FakeSource(true);
    const { f } = feed(src);
    src.duringList = () => void f.stop();
    f.start();
    await until(() => src.watches.length === 1 && src.watches[0]?.stopped === true);
    expect(f.synced).toBe(false);
  });
});
