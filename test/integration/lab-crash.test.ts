// A `lab up` killed mid-way (SIGKILL, no chance to clean up) leaves a state file that lets
// `lab down` remove everything it had created.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnDaemon } from '../../kernel/exec.js';
import { isRunning, refFor } from '../../kernel/processes.js';
import { type LabState, readState } from '../../lab/state.js';
import { labDown } from '../../lab/teardown.js';
import { isRoot, labLeftovers, ROOT_REASON, uniqueName } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FILE = join(ROOT, 'lab/topologies/two-racks.clab.yml');
const NODE_TSX = [process.execPath, '--import', 'tsx'];

describe.skipIf(!isRoot)(`lab up killed mid-way (${ROOT_REASON})`, () => {
  const names: string[] = [];
  afterEach(async () => {
    for (const n of names.splice(0)) await labDown(n).catch(() => {});
  });

  // Kill when the state file shows these stages: some namespaces, then daemons started.
  const stages: [string, (s: LabState) => boolean][] = [
    ['after the first namespaces', (s) => s.nodes.length >= 2],
    ['after FRR started', (s) => s.processes.length >= 2],
  ];
  for (const [label, reached] of stages) {
    it(`down cleans up a crash ${label}`, async () => {
      const name = uniqueName('crash');
      names.push(name);
      const logDir = mkdtempSync(join(tmpdir(), 'tabby-crash-'));
      try {
        const pid = await spawnDaemon(
          [...NODE_TSX, join(ROOT, 'lab/cli.ts'), 'up', FILE, '--name', name, '--no-wait'],
          {
            logFile: join(logDir, 'up.log'),
            cwd: ROOT,
          },
        );
        const runner = refFor(pid, 'lab up');
        const deadline = Date.now() + 30_000;
        let state: LabState | undefined;
        while (Date.now() < deadline) {
          state = readState(name);
          if (state && reached(state)) break;
          if (!isRunning(runner)) break;
          await sleep(5);
        }
        expect(
          isRunning(runner),
          `runner exited before "${label}": ${readFileSync(join(logDir, 'up.log'), 'utf8')}`,
        ).toBe(true);
        process.kill(pid, 'SIGKILL');
        while (isRunning(runner)) await sleep(10);

        expect(readState(name)?.phase).toBe('creating'); // a crashed `up` left its record
        expect((await labLeftovers(name)).filter((l) => l.startsWith('netns')).length).toBeGreaterThan(0);

        await labDown(name);
        expect(await labLeftovers(name)).toEqual([]);
      } finally {
        rmSync(logDir, { recursive: true, force: true });
      }
    });
  }

  it('an interrupted up (SIGINT) removes what it created by itself', async () => {
    const name = uniqueName('intr');
    names.push(name);
    const logDir = mkdtempSync(join(tmpdir(), 'tabby-intr-'));
    try {
      const pid = await spawnDaemon(
        [...NODE_TSX, join(ROOT, 'lab/cli.ts'), 'up', FILE, '--name', name, '--no-wait'],
        {
          logFile: join(logDir, 'up.log'),
          cwd: ROOT,
        },
      );
      const runner = refFor(pid, 'lab up');
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && isRunning(runner) && (readState(name)?.nodes.length ?? 0) < 2)
        await sleep(5);
      process.kill(pid, 'SIGINT');
      while (isRunning(runner)) await sleep(10);
      const log = readFileSync(join(logDir, 'up.log'), 'utf8');
      expect(log).toContain('interrupted by SIGINT');
      expect(log).toContain('removing what was created');
      expect(await labLeftovers(name)).toEqual([]);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
