// `tabby ipam gc`: the leak collector with Kubernetes as its liveness source (ipam/pod-liveness.ts).
// Runs every `interval` until stopped (the collector remembers for how long each suspect has
// looked leaked), printing each run's report as one JSON line; `--once` runs once — then only
// what needs no grace (allocations of deleted nodes, or everything with --grace 0) is freed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Datastore } from '../datastore/datastore.js';
import { type GcReport, Ipam, LeakCollector, podLiveness } from '../ipam/index.js';

export interface IpamGcOptions {
  graceMs: number;
  intervalMs: number;
  once: boolean;
  /** Only these pool CIDRs (default: every pool). */
  pools?: string[];
  write: (line: string) => void;
  signal?: AbortSignal;
}

/** "15m", "90s", "2h", "500ms" or a number of seconds → milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`${what}: not a duration (e.g. 15m, 90s): ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

const summary = (r: GcReport) => ({
  candidates: r.candidates,
  reclaimed: r.reclaimed,
  spared: r.spared.length,
  blocksReleased: r.blocksReleased,
  staleHandles: r.staleHandles.length,
  staleClaims: r.staleClaims.length,
  errors: r.errors,
});

/** Runs the collector; resolves with the number of runs that reported errors. */
export async function runIpamGc(ds: Datastore, o: IpamGcOptions): Promise<number> {
  const ipam = new Ipam(ds);
  const collector = new LeakCollector(ipam, podLiveness(ds, ipam), { graceMs: o.graceMs, pools: o.pools });
  let failedRuns = 0;
  for (;;) {
    try {
      const report = await collector.run();
      if (report.errors.length > 0) failedRuns++;
      o.write(JSON.stringify({ time: new Date().toISOString(), ...summary(report) }));
    } catch (e) {
      failedRuns++;
      o.write(
        JSON.stringify({ time: new Date().toISOString(), error: e instanceof Error ? e.message : String(e) }),
      );
    }
    if (o.once || o.signal?.aborted) return failedRuns;
    try {
      await sleep(o.intervalMs, undefined, { signal: o.signal });
    } catch {
      return failedRuns; // aborted
    }
  }
}
