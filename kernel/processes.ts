// Process identity and termination. A pid alone can be reused; a pid plus its start time
// (field 22 of /proc/PID/stat) names one process for good, so we never signal a stranger.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRef {
  pid: number;
  /** Start time in clock ticks since boot; undefined when it could not be read. */
  startTime?: number;
  /** What it is, for messages. */
  name?: string;
}

/** One process as /proc/PID/stat describes it. */
export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat). */
  startTime: number;
}

/** Pure: parses /proc/PID/stat; undefined for zombies (exited, not yet reaped: they hold nothing but a pid). */
export function parseProcStat(pid: number, stat: string): ProcStat | undefined {
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return { pid, ppid: Number(fields[1]), comm, startTime: Number(fields[19]) };
}

/** /proc/PID/stat of a live process; undefined when it is gone or a zombie. */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface ProcessInfo extends ProcStat {
  /** The command line, arguments joined by spaces. */
  cmdline: string;
}

/** Every live process (zombies left out), from one walk of /proc. */
export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = readProcStat(Number(entry));
    if (!p) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      out.push({ ...p, cmdline });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

export const processStartTime = (pid: number): number | undefined => readProcStat(pid)?.startTime;

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
