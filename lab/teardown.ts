// `lab down`: removes everything the state file records, and anything running inside the lab's
// namespaces, in a fixed order (processes, namespaces and with them their veths, work dir, state).
// Best effort at each step; every failure is reported at the end.
import { rmSync } from 'node:fs';
import { deleteNetns, netnsPids, refFor, terminate } from '../kernel/index.js';
import { LabError } from './errors.js';
import { readState, removeState, writeState } from './state.js';

export interface DownResult {
  /** False when there was no such lab (down is idempotent). */
  existed: boolean;
  namespaces: string[];
}

export async function labDown(name: string, progress: (msg: string) => void = () => {}): Promise<DownResult> {
  const state = readState(name);
  if (!state) return { existed: false, namespaces: [] };
  const failures: string[] = [];
  const step = async (what: string, fn: () => Promise<void> | void) => {
    try {
      await fn();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
    }
  };
  await step('mark deleting', () => writeState({ ...state, phase: 'deleting' }));
  progress(`stopping ${state.processes.length} daemon(s)`);
  await step('stop daemons', () => terminate(state.processes));
  for (const n of state.nodes) {
    await step(`stop processes in ${n.netns}`, async () => {
      const pids = await netnsPids(n.netns);
      await terminate(pids.map((pid) => refFor(pid)));
    });
  }
  progress(`deleting ${state.nodes.length} namespace(s)`);
  for (const n of state.nodes) await step(`delete namespace ${n.netns}`, () => deleteNetns(n.netns));
  await step(`remove ${state.workDir}`, () => rmSync(state.workDir, { recursive: true, force: true }));
  if (failures.length > 0) {
    throw new LabError(
      `lab "${name}" was not fully removed (state kept; run down again):\n  ${failures.join('\n  ')}`,
    );
  }
  removeState(name);
  return { existed: true, namespaces: state.nodes.map((n) => n.netns) };
}
