// The agent's logger: pino, JSON lines on stdout (one object per event, level names as text).
import { pino } from 'pino';

export type Logger = pino.Logger;

/** What felix/ modules need of a logger; tests pass `silentLogger()` or a pino instance. */
export type Log = Pick<pino.Logger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;

export function createLogger(level: string = process.env.TABBY_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { component: 'tabby-agent' },
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
