// Group commit: work submitted for one key while a batch for that key is running (or within
// the same tick) is collected and handed over as one batch. One batch runs per key at a time.
// This is what turns a burst of pod starts on a node into a few block writes.

export interface Pending<T, R> {
  item: T;
  resolve(value: R): void;
  reject(error: unknown): void;
}

export type BatchProcessor<T, R> = (key: string, batch: Pending<T, R>[]) => Promise<void>;

export class GroupCommit<T, R> {
  private readonly queues = new Map<string, Pending<T, R>[]>();
  private readonly running = new Set<string>();

  constructor(
    private readonly process: BatchProcessor<T, R>,
    private readonly maxBatch = 256,
  ) {}

  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(key) ?? [];
      queue.push({ item, resolve, reject });
      this.queues.set(key, queue);
      // Start on the next turn of the event loop so that a same-tick burst forms one batch.
      if (!this.running.has(key)) {
        this.running.add(key);
        setImmediate(() => void this.drain(key));
      }
    });
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(key) ?? [];
      if (queue.length === 0) {
        this.queues.delete(key);
        this.running.delete(key);
        return;
      }
      const batch = queue.splice(0, this.maxBatch);
      try {
        await this.process(key, batch);
      } catch (e) {
        for (const p of batch) p.reject(e); // a no-op for the already-settled ones
      }
    }
  }
}
