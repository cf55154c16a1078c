import { describe, expect, it } from 'vitest';
import {
  isRunning,
  listProcesses,
  parseProcStat,
  processStartTime,
  readProcStat,
  refFor,
  terminate,
} from './processes.js';

describe('process identity (pid + start time)', () => {
  it('names this process and tells it apart from a reused pid', () => {
    const me = refFor(process.pid, 'self');
    expect(me.startTime).toBeGreaterThan(0);
    expect(isRunning(me)).toBe(true);
    expect(isRunning({ pid: process.pid, startTime: (me.startTime ?? 0) + 1 })).toBe(false);
  });

  it('treats a pid that does not exist as gone, and terminating it as done', async () => {
    const ghost = { pid: 2 ** 22 + 12345 };
    expect(processStartTime(ghost.pid)).toBeUndefined();
    expect(isRunning(ghost)).toBe(false);
    await expect(terminate([ghost], 10)).resolves.toBeUndefined();
  });
});

describe('/proc/PID/stat', () => {
  it('reads ppid, comm (with spaces and parens) and start time; skips zombies', () => {
    const fields = ['S', '42', ...Array.from({ length: 17 }, () => '0'), '12345', '0'];
    expect(parseProcStat(7, `7 (containerd-shim) ${fields.join(' ')}`)).toEqual({
      pid: 7,
      ppid: 42,
      comm: 'containerd-shim',
      startTime: 12345,
    });
    expect(parseProcStat(8, `8 (a (b) c) ${fields.join(' ')}`)?.comm).toBe('a (b) c');
    expect(parseProcStat(9, `9 (sleep) Z 1 ${fields.slice(2).join(' ')}`)).toBeUndefined();
  });

  it('lists this process with its parent, start time and command line', () => {
    const me = listProcesses().find((p) => p.pid === process.pid);
    expect(me).toMatchObject({ ppid: process.ppid, startTime: processStartTime(process.pid) });
    expect(me?.cmdline).toMatch(/\S/);
    expect(me?.cmdline).not.toContain('\0');
    expect(readProcStat(process.pid)?.startTime).toBe(me?.startTime);
  });
});
