// Runs a tabby agent inside a lab node's network namespace, as a detached process with its own
// log, the way the DaemonSet runs it on a real node (hostNetwork). It reaches the API server
// through the control plane's unix-socket bridge (--apiserver-socket).
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoPath } from '../common/paths.js';
import { isRunning, type ProcessRef, refFor, spawnDaemon, terminate } from '../kernel/index.js';
import { LabError } from './errors.js';

export interface AgentProcessOptions {
  /** The node's namespace (the agent's "host"). */
  netns: string;
  nodeName: string;
  kubeconfig: string;
  apiSocket: string;
  /** CNI socket path. */
  socket: string;
  logFile: string;
  /** More flags, e.g. ['--resync-interval', '5']. */
  args?: string[];
  readyTimeoutMs?: number;
  /**
   * Run the compiled agent (dist/felix/main.js, `npm run build`) with plain node, as the
   * DaemonSet does, instead of felix/main.ts under tsx. Default: TABBY_LAB_AGENT=dist in the
   * environment turns it on (benchmarks set it), else off.
   */
  compiled?: boolean;
}

export interface AgentProcess {
  ref: ProcessRef;
  healthPort: number;
  logFile: string;
  /** SIGTERM (the agent leaves pods wired), SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

const AGENT_MAIN = repoPath('felix/main.ts');
/**
 * Node flags the agent runs with, here and in deploy/daemonset.yaml (a test keeps them equal):
 * a 1 MB young generation instead of 16 MB semi-spaces keeps ~20 MB less resident for an agent
 * whose live heap is small; scavenges get more frequent, which an idle agent does not notice.
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1'];
const COMPILED_AGENT_MAIN = repoPath('dist/felix/main.js');

/**
 * How the agent's program is run: felix/main.ts under tsx, or the build output with plain node.
 * TABBY_LAB_AGENT_NODE_ARGS (space-separated) adds node flags NODE_OPTIONS refuses, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` (diagnosis).
 */
export function agentProgram(compiled = process.env.TABBY_LAB_AGENT === 'dist'): string[] {
  const node = [
    process.execPath,
    ...AGENT_NODE_FLAGS,
    ...(process.env.TABBY_LAB_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  if (!compiled) return [...node, '--import', 'tsx', AGENT_MAIN];
  if (!existsSync(COMPILED_AGENT_MAIN))
    throw new LabError(`no compiled agent at ${COMPILED_AGENT_MAIN}: run \`npm run build\` first`);
  return [...node, COMPILED_AGENT_MAIN];
}

export async function startAgentProcess(o: AgentProcessOptions): Promise<AgentProcess> {
  const argv = [
    'ip',
    'netns',
    'exec',
    o.netns,
    ...agentProgram(o.compiled),
    '--node-name',
    o.nodeName,
    '--kubeconfig',
    o.kubeconfig,
    '--apiserver-socket',
    o.apiSocket,
    '--socket',
    o.socket,
    '--health-port',
    '0',
    ...(o.args ?? []),
  ];
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const offset = existsSync(o.logFile) ? readFileSync(o.logFile).length : 0;
  const ref = refFor(
    await spawnDaemon(argv, { logFile: o.logFile, env, cwd: repoPath('.') }),
    `tabby-agent ${o.nodeName}`,
  );
  const stop = async (graceMs: number) => terminate([ref], graceMs);
  try {
    const healthPort = await waitReady(o.logFile, offset, ref, o.readyTimeoutMs ?? 60_000);
    return { ref, healthPort, logFile: o.logFile, stop: () => stop(5000), kill: () => stop(0) };
  } catch (e) {
    await stop(0);
    throw e;
  }
}

/** Waits for the agent's "ready" log line (after `offset`); returns its health port. */
async function waitReady(
  logFile: string,
  offset: number,
  ref: ProcessRef,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = existsSync(logFile) ? readFileSync(logFile).subarray(offset).toString('utf8') : '';
    let port = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const rec = JSON.parse(line) as { msg?: string; health?: string };
        if (rec.msg === 'tabby agent starting' && rec.health) port = Number(rec.health.split(':').pop());
        if (rec.msg === 'tabby agent ready') return port;
      } catch {
        // a partial line
      }
    }
    if (!isRunning(ref))
      throw new LabError(`tabby agent exited at start; see ${logFile}:\n${text.slice(-2000)}`);
    await sleep(50);
  }
  throw new LabError(`tabby agent not ready after ${timeoutMs / 1000} s; see ${logFile}`);
}
