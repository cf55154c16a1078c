import { describe, expect, it } from 'vitest';
import { reportAdoptionDrift } from './adopt.js';
import { recordingLog } from './fake-log.js';
import { silentLogger } from './log.js';
import type { Workload } from './workloads.js';

const workload = (handle: string, hostVeth: string, addresses: string[]): Workload => ({
  network: 'net',
  containerId: handle,
  ifname: 'eth0',
  hostVeth,
  handle,
  addresses: addresses.map((address) => ({ family: address.includes(':') ? 6 : 4, address })),
});

describe('reportAdoptionDrift', () => {
  it('reports nothing when every pod has its handle and its own addresses', async () => {
    const { log, entries } = recordingLog();
    const pods = [workload('h1', 'tby1', ['10.0.0.1', 'fd00::1']), workload('h2', 'tby2', ['10.0.0.2'])];
    await expect(reportAdoptionDrift(pods, new Set(['h1', 'h2', 'h3']), log)).resolves.toBe(0);
    await expect(reportAdoptionDrift([], new Set(), log)).resolves.toBe(0);
    expect(entries).toEqual([]);
  });

  it('counts each pod whose handle IPAM does not know', async () => {
    const { log, entries } = recordingLog();
    const pods = [
      workload('h1', 'tby1', ['10.0.0.1']),
      workload('h2', 'tby2', ['10.0.0.2']),
      workload('h3', 'tby3', []),
    ];
    await expect(reportAdoptionDrift(pods, new Set(['h2']), log)).resolves.toBe(2);
    expect(entries).toEqual([
      {
        level: 'warn',
        obj: { handle: 'h1', hostVeth: 'tby1' },
        msg: 'adopted pod has no IPAM handle on this node',
      },
      {
        level: 'warn',
        obj: { handle: 'h3', hostVeth: 'tby3' },
        msg: 'adopted pod has no IPAM handle on this node',
      },
    ]);
  });

  it('counts each further pod claiming an address already claimed', async () => {
    const { log, entries } = recordingLog();
    const pods = [
      workload('h1', 'tby1', ['10.0.0.1', 'fd00::1']),
      workload('h2', 'tby2', ['10.0.0.1']),
      workload('h3', 'tby3', ['10.0.0.1', 'fd00::1']),
    ];
    await expect(reportAdoptionDrift(pods, new Set(['h1', 'h2', 'h3']), log)).resolves.toBe(3);
    expect(entries.every((e) => e.level === 'error' && e.msg === 'two adopted pods claim one address')).toBe(
      true,
    );
    expect(entries.map((e) => e.obj)).toEqual([
      { address: '10.0.0.1', pods: ['h1', 'h2'] },
      { address: '10.0.0.1', pods: ['h2', 'h3'] },
      { address: 'fd00::1', pods: ['h1', 'h3'] },
    ]);
  });

  it('adds up both kinds of drift (with a silent pino logger)', async () => {
    const pods = [workload('h1', 'tby1', ['10.0.0.1']), workload('h2', 'tby2', ['10.0.0.1'])];
    await expect(reportAdoptionDrift(pods, new Set(['h1']), silentLogger())).resolves.toBe(2);
    await expect(reportAdoptionDrift(pods, new Set(), silentLogger())).resolves.toBe(3);
  });
});
