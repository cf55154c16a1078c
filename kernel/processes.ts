// Process identity and termination. A pid alone can be reused; a pid plus its start time
// (field 22 of /proc/PID/stat) names one process for good, so we never signal a stranger.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRef {
  pid: number;
  /** Start time in clock ticks since boot; undefined when it could not be read. */
  startTime?: number;
  /** What it is, for messages. */
  name?: string;
}

export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined; // exited, not yet reaped
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

export function refFor(pid: number, name?: string): ProcessRef {
  return { pid, startTime: processStartTime(pid), name };
}

/** True while the process named by `ref` (same pid, same start time) is running. */
export function isRunning(ref: ProcessRef): boolean {
  const now = processStartTime(ref.pid);
  return now !== undefined && (ref.startTime === undefined || now === ref.startTime);
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. Resolves when all are gone. */
export async function terminate(refs: readonly ProcessRef[], graceMs = 3000): Promise<void> {
  const live = () => refs.filter(isRunning);
  for (const r of live()) signal(r.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live().length > 0 && Date.now() < deadline) await sleep(50);
  for (const r of live()) signal(r.pid, 'SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (live().length > 0 && Date.now() < killDeadline) await sleep(20);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
