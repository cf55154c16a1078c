// One watcher of an in-memory collection: events are delivered one microtask later (like a
// real watch, never inside the write), filtered, and a throwing handler ends the watch with
// its error. Shared by the resource stores and the nodes of memory.ts.
import type { Watch } from './datastore.js';

export interface MemoryWatcher<E> {
  watch: Watch;
  /** Delivers now (if not stopped and accepted): for a backlog the caller replays. */
  deliver(e: E): void;
  /** Ends the watch (error: why; undefined: stopped). */
  end(error: Error | undefined): void;
}

export function memoryWatcher<E>(
  watchers: Set<(e: E) => void>,
  onEvent: (e: E) => void,
  accept: (e: E) => boolean = () => true,
): MemoryWatcher<E> {
  let stopped = false;
  let resolveDone: (e: Error | undefined) => void = () => {};
  const done = new Promise<Error | undefined>((r) => {
    resolveDone = r;
  });
  const end = (error: Error | undefined) => {
    if (stopped) return;
    stopped = true;
    watchers.delete(watcher);
    resolveDone(error);
  };
  const deliver = (e: E) => {
    if (stopped || !accept(e)) return;
    try {
      onEvent(e);
    } catch (error) {
      end(error instanceof Error ? error : new Error(String(error)));
    }
  };
  const watcher = (e: E) => queueMicrotask(() => deliver(e));
  watchers.add(watcher);
  return { watch: { done, stop: async () => end(undefined) }, deliver, end };
}
