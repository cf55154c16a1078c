import { describe, expect, it } from 'vitest';
import { isRunning, processStartTime, refFor, terminate } from './processes.js';

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
