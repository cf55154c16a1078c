// A Log that records what it is given, for tests (excluded from the build as fake-*).
import type { Log } from './log.js';

export interface LogEntry {
  level: string;
  obj: unknown;
  msg: unknown;
}

export function recordingLog(): { log: Log; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: unknown, msg?: unknown) => {
    entries.push({ level, obj, msg });
  };
  const log = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  } as unknown as Log;
  return { log, entries };
}
