// One watch of one collection (custom objects, or a core kind such as Node) through client-node's Watch (a streamed GET with
// watch=true). It starts after a resourceVersion (a list's, or the collection's current one),
// follows bookmarks, and resumes from the last version seen when the API server closes the
// stream normally (it does so every 30-60 minutes). It ends on an error: an ERROR event (410 Gone
// for a version too old → Conflict), a failed reconnect, or an exception thrown by `onEvent`.
import { type KubeConfig, Watch as KubeWatchClient } from '@kubernetes/client-node';
import type { Watch, WatchOptions } from './datastore.js';
import { isDatastoreError } from './errors.js';
import { toDatastoreError } from './kubernetes-errors.js';
import { type KubeObject, labelSelector } from './kubernetes-objects.js';

export interface WatchTarget<T> {
  kc: KubeConfig;
  /** e.g. /apis/tabby.dev/v1alpha1/ippools or /api/v1/nodes */
  path: string;
  /** Kind, for error messages. */
  kind: string;
  /** The collection's current resourceVersion (a watch without one starts there: "from now"). */
  currentVersion(): Promise<string>;
  /** The object an event carries, as the caller sees it. */
  convert(raw: KubeObject): T;
}

/** A watch event whose object is what `WatchTarget.convert` makes. */
export interface TargetEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

/** A connection that lasted less than this is not retried at once (no reconnect spin). */
const MIN_CONNECTION_MS = 1000;

/** Failed reconnects (1, 2, 4, 8, 8, 8 s apart) before the watch ends with the error. */
const RECONNECT_ATTEMPTS = 6;

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

class KubernetesWatch<T> implements Watch {
  readonly done: Promise<Error | undefined>;
  private resolveDone: (e: Error | undefined) => void = () => {};
  private ended = false;
  private controller?: AbortController;
  private retry?: NodeJS.Timeout;
  private readonly client: KubeWatchClient;

  constructor(
    private readonly target: WatchTarget<T>,
    private readonly onEvent: (e: TargetEvent<T>) => void,
    private readonly selector: string | undefined,
    private version: string,
    private readonly registry: Set<Watch>,
  ) {
    registry.add(this);
    this.client = new KubeWatchClient(target.kc);
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** Opens a connection; throws when it is refused (a first one: the watch never started). */
  async connect(first: boolean): Promise<void> {
    const started = Date.now();
    let connecting = true;
    let early: { err: unknown } | undefined;
    const controller = await this.client.watch(
      this.target.path,
      { resourceVersion: this.version, labelSelector: this.selector, allowWatchBookmarks: true },
      (type: string, obj: unknown) => this.onLine(type, obj as KubeObject),
      (err: unknown) => {
        if (connecting) early = { err };
        else this.onClose(err, started);
      },
    );
    connecting = false;
    if (this.ended) {
      controller.abort();
      return;
    }
    this.controller = controller;
    if (!early) return;
    // Refused or cut at once: the first connection fails watch(), a reconnect retries or ends.
    if (early.err || first) {
      if (first) this.end(undefined);
      throw toDatastoreError(early.err ?? new Error('closed at once'), 'watch', this.target.kind);
    }
    this.onClose(null, started);
  }

  async stop(): Promise<void> {
    this.end(undefined);
    await this.done;
  }

  private onLine(type: string, obj: KubeObject): void {
    if (this.ended) return;
    const rv = obj?.metadata?.resourceVersion;
    if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
      if (rv) this.version = String(rv);
      try {
        this.onEvent({ type, object: this.target.convert(obj) });
      } catch (e) {
        this.end(asError(e));
      }
    } else if (type === 'BOOKMARK') {
      if (rv) this.version = String(rv);
    } else if (type === 'ERROR') {
      const status = obj as { code?: number };
      this.end(asError(toDatastoreError({ code: status.code ?? 500, body: obj }, 'watch', this.target.kind)));
    }
  }

  private onClose(err: unknown, started: number): void {
    if (this.ended) return;
    if (err) {
      this.end(asError(toDatastoreError(err, 'watch', this.target.kind)));
      return;
    }
    // Closed normally by the server: resume after the last version seen.
    this.reconnect(Date.now() - started < MIN_CONNECTION_MS ? MIN_CONNECTION_MS : 0, 0);
  }

  /** Reconnects after `wait` ms; an Unavailable answer (429 while a CRD changes, 5xx) is retried. */
  private reconnect(wait: number, attempt: number): void {
    this.retry = setTimeout(() => {
      this.connect(false).catch((e: unknown) => {
        const err = toDatastoreError(e, 'watch', this.target.kind);
        if (isDatastoreError(err, 'Unavailable') && attempt < RECONNECT_ATTEMPTS) {
          this.reconnect(Math.min(MIN_CONNECTION_MS * 2 ** attempt, 8000), attempt + 1);
        } else {
          this.end(asError(err));
        }
      });
    }, wait);
  }

  private end(err: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.retry);
    this.controller?.abort();
    this.registry.delete(this);
    this.resolveDone(err);
  }
}

export async function openWatch<T>(
  target: WatchTarget<T>,
  onEvent: (e: TargetEvent<T>) => void,
  options: WatchOptions,
  /** Open watches (for `close`): the watch is in it from start to end. */
  registry: Set<Watch>,
): Promise<Watch> {
  const version = options.resourceVersion ?? (await target.currentVersion());
  const w = new KubernetesWatch<T>(target, onEvent, labelSelector(options.labels), version, registry);
  await w.connect(true);
  return w;
}
