// One collection kept current in memory: list, then watch; list again whenever the watch ends
// (410 Gone after compaction, a dropped connection, an error), with backoff after failures.
//
// Two ways to start, depending on what the collection offers:
// - with a list resourceVersion (tabby's CRDs): list, then watch from that version (a watch that
//   replays what happened since the list, so nothing is missed, even with a cached list);
// - without one (Nodes, see Datastore.watchNodes): open the watch first, then list, then apply
//   the events that arrived meanwhile, in order: the last event for a key is its latest state.
import type { Watch } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import type { Log } from '../felix/log.js';

export interface FeedEvent<R> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: R;
}

export interface FeedSource<R> {
  /** For logs, e.g. "BGPPeers". */
  what: string;
  list(): Promise<{ items: R[]; resourceVersion?: string }>;
  /** With `resourceVersion`: from there; without: from now (the source then lists after). */
  watch(onEvent: (e: FeedEvent<R>) => void, resourceVersion?: string): Promise<Watch>;
  /** The list of a source that has no list resourceVersion (the watch is opened first). */
  watchFirst?: boolean;
  key(raw: R): string;
}

export interface FeedRetry {
  /** First delay after a failure, doubled each time up to `maxMs`. */
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_FEED_RETRY: FeedRetry = { initialMs: 200, maxMs: 10_000 };

/** A watch that lasted this long resets the backoff. */
const HEALTHY_MS = 30_000;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class Feed<R, T> {
  /** The collection's objects as `map` made them (those it turned down are left out). */
  readonly items = new Map<string, T>();
  private syncedOnce = false;
  private stopped = false;
  private watch: Watch | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly source: FeedSource<R>,
    /** What is kept of an object; undefined: nothing (the key is dropped). */
    private readonly map: (raw: R) => T | undefined,
    /** Called after the (re)list and after every event once listed. */
    private readonly onChange: () => void,
    private readonly log: Log,
    private readonly retry: FeedRetry = DEFAULT_FEED_RETRY,
  ) {}

  /** Listed at least once: `items` is the collection (possibly a little behind). */
  get synced(): boolean {
    return this.syncedOnce;
  }

  start(): void {
    void this.run();
  }

  /** Lists now and replaces the items (a fresher view than the watch's, e.g. after our own write). */
  async relist(list: () => Promise<R[]>): Promise<void> {
    const items = await list();
    if (this.stopped || !this.syncedOnce) return;
    this.replace(items);
    this.onChange();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.watch?.stop();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const started = Date.now();
      let failure: unknown;
      try {
        const watch = await this.open();
        if (!watch) break;
        this.syncedOnce = true;
        this.onChange();
        failure = await watch.done;
        this.watch = undefined;
        if (this.stopped) break;
      } catch (e) {
        failure = e;
      }
      if (Date.now() - started > HEALTHY_MS) attempt = 0;
      // 410 Gone (compaction, CRD change) is routine: list again at once, the first time.
      if (isDatastoreError(failure, 'Conflict') && attempt === 0) {
        this.log.debug({ what: this.source.what, err: message(failure) }, 'watch expired; listing again');
        attempt = 1;
        continue;
      }
      const delay =
        Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      this.log.warn(
        {
          what: this.source.what,
          err: failure === undefined ? 'watch ended' : message(failure),
          retryInMs: Math.round(delay),
        },
        'list/watch failed; listing again',
      );
      await this.sleep(delay);
    }
  }

  /** Lists and opens the watch; undefined when stopped meanwhile. */
  private async open(): Promise<Watch | undefined> {
    const src = this.source;
    let watch: Watch;
    if (src.watchFirst) {
      const pending: FeedEvent<R>[] = [];
      let listed = false;
      watch = await src.watch((e) => (listed ? this.apply(e) : pending.push(e)));
      this.watch = watch;
      if (this.stopped) return this.abandon(watch);
      try {
        const { items } = await src.list();
        this.replace(items);
      } catch (e) {
        await watch.stop();
        throw e;
      }
      listed = true;
      for (const e of pending.splice(0)) this.apply(e, false);
    } else {
      const { items, resourceVersion } = await src.list();
      if (this.stopped) return undefined;
      this.replace(items);
      watch = await src.watch((e) => this.apply(e), resourceVersion);
      this.watch = watch;
    }
    if (this.stopped) return this.abandon(watch);
    return watch;
  }

  private async abandon(watch: Watch): Promise<undefined> {
    await watch.stop();
    return undefined;
  }

  private replace(items: R[]): void {
    this.items.clear();
    for (const raw of items) this.put(raw);
  }

  private put(raw: R): void {
    const key = this.source.key(raw);
    const value = this.map(raw);
    if (value === undefined) this.items.delete(key);
    else this.items.set(key, value);
  }

  private apply(e: FeedEvent<R>, notify = true): void {
    if (this.stopped) return;
    if (e.type === 'DELETED') this.items.delete(this.source.key(e.object));
    else this.put(e.object);
    if (notify && this.syncedOnce) this.onChange();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }
}
