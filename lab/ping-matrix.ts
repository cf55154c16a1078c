// Reachability matrix: ping every target from every source namespace. Used by the demo (and
// later for the pod×pod matrix).
import { runInNetns } from '../kernel/index.js';

export interface PingTarget {
  label: string;
  address: string;
}

export interface PingSource {
  label: string;
  netns: string;
}

export interface PingResult {
  from: string;
  to: string;
  ok: boolean;
  rttMs?: number;
}

export async function pingMatrix(sources: PingSource[], targets: PingTarget[]): Promise<PingResult[]> {
  const results: PingResult[] = [];
  // One source at a time, its targets in parallel: bounded work on a 2-core machine.
  for (const s of sources) {
    const row = await Promise.all(
      targets.map(async (t): Promise<PingResult> => {
        try {
          const { stdout } = await runInNetns(s.netns, ['ping', '-c', '1', '-W', '2', '-q', t.address], {
            timeoutMs: 5000,
          });
          const rtt = /= [\d.]+\/([\d.]+)\//.exec(stdout)?.[1];
          return { from: s.label, to: t.label, ok: true, rttMs: rtt ? Number(rtt) : undefined };
        } catch {
          return { from: s.label, to: t.label, ok: false };
        }
      }),
    );
    results.push(...row);
  }
  return results;
}

/** A from×to grid of ✓/✗. Pure. */
export function formatPingMatrix(results: PingResult[]): string {
  const froms = [...new Set(results.map((r) => r.from))];
  const tos = [...new Set(results.map((r) => r.to))];
  const width = Math.max('from\\to'.length, ...froms.map((f) => f.length), ...tos.map((t) => t.length)) + 2;
  const cell = (s: string) => s.padEnd(width);
  const lines = [cell('from\\to') + tos.map(cell).join('')];
  for (const f of froms) {
    lines.push(
      cell(f) +
        tos
          .map((t) => {
            const r = results.find((x) => x.from === f && x.to === t);
            return cell(r?.ok ? 'ok' : 'FAIL');
          })
          .join(''),
    );
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(
    failed === 0 ? `all ${results.length} pings answered` : `${failed} of ${results.length} pings FAILED`,
  );
  return lines.join('\n');
}
