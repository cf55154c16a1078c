// A `lab up` that dies mid-way: killed (SIGKILL, no chance to clean up) it leaves a state file
// from which `lab down` removes everything; interrupted (SIGINT) it cleans up by itself.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, refFor, spawnDaemon } from '../../kernel/index.js';
import { type LabState, readState } from '../../lab/state.js';
import { labDown } from '../../lab/teardown.js';
import { isRoot, labLeftovers, ROOT_REASON, uniqueName } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FILE = join(ROOT, 'lab/topologies/two-racks.clab.yml');
const BIRD_FILE = join(ROOT, 'lab/topologies/two-racks-bird.clab.yml');

/**
 * Starts `lab up` as its own process (node --import tsx: one process, so a signal reaches the
 * runner itself), sends `signal` once its state file satisfies `reached`, and waits for it to exit.
 * Resolves to what it printed.
 */
async function upAndSignal(
  name: string,
  reached: (s: LabState) => boolean,
  signal: NodeJS.Signals,
  file = FILE,
): Promise<string> {
  const logDir = mkdtempSync(join(tmpdir(), 'tabby-crash-'));
  try {
    const argv = [
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'lab/cli.ts'),
      'up',
      file,
      '--name',
      name,
      '--no-wait',
    ];
    const pid = await spawnDaemon(argv, { logFile: join(logDir, 'up.log'), cwd: ROOT });
    const runner = refFor(pid, 'lab up');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && isRunning(runner)) {
      const s = readState(name);
      if (s && reached(s)) break;
      await sleep(5);
    }
    const log = () => readFileSync(join(logDir, 'up.log'), 'utf8');
    expect(isRunning(runner), `runner exited before the kill point: ${log()}`).toBe(true);
    process.kill(pid, signal);
    while (isRunning(runner)) await sleep(10);
    return log();
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

describe.skipIf(!isRoot)(`lab up dying mid-way (${ROOT_REASON})`, () => {
  const names: string[] = [];
  afterEach(async () => {
    for (const n of names.splice(0)) await labDown(n).catch(() => {});
  });

  const killPoints: [string, (s: LabState) => boolean, string][] = [
    ['after the first namespaces', (s) => s.nodes.length >= 2, FILE],
    ['after FRR started', (s) => s.processes.length >= 2, FILE],
    ['after BIRD started', (s) => s.processes.some((p) => p.name?.startsWith('bird@')), BIRD_FILE],
  ];
  for (const [label, reached, file] of killPoints) {
    it(`down cleans up an up killed ${label}`, async () => {
      const name = uniqueName('crash');
      names.push(name);
      await upAndSignal(name, reached, 'SIGKILL', file);
      expect(readState(name)?.phase).toBe('creating'); // the crashed `up` left its record
      expect((await labLeftovers(name)).some((l) => l.startsWith('netns'))).toBe(true);
      await labDown(name);
      expect(await labLeftovers(name)).toEqual([]);
    });
  }

  it('an interrupted up (SIGINT) removes what it created by itself', async () => {
    const name = uniqueName('intr');
    names.push(name);
    const log = await upAndSignal(name, (s) => s.nodes.length >= 2, 'SIGINT');
    expect(log).toContain('interrupted by SIGINT');
    expect(log).toContain('removing what was created');
    expect(await labLeftovers(name)).toEqual([]);
  });
});
