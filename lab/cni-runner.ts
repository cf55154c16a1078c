// Runs the built CNI plugin executable (tests, benchmarks, the demo) (dist/cni/tabby) the way a runtime does: CNI_* env, the
// config on stdin, the result or the error on stdout. Never throws for a non-zero exit.
import { repoPath } from '../common/paths.js';
import { ExecError, run } from '../kernel/index.js';

export const PLUGIN = repoPath('dist/cni/tabby');

export interface CniEnv {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  path?: string;
}

export interface CniOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json?: Record<string, unknown>;
}

/** A clean environment (no NODE_EXTRA_CA_CERTS, which slows every Node start by ~35 ms). */
export function cniEnv(e: CniEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, CNI_COMMAND: e.command };
  if (e.containerId !== undefined) env.CNI_CONTAINERID = e.containerId;
  if (e.netns !== undefined) env.CNI_NETNS = e.netns;
  if (e.ifname !== undefined) env.CNI_IFNAME = e.ifname;
  if (e.args !== undefined) env.CNI_ARGS = e.args;
  env.CNI_PATH = e.path ?? '/usr/lib/cni';
  return env;
}

export const runCni = (e: CniEnv, stdin: string | object, plugin = PLUGIN): Promise<CniOutcome> =>
  runPluginWithEnv(cniEnv(e), stdin, plugin);

/** Runs the plugin with exactly `env` (for tests of missing or malformed CNI_* variables). */
export async function runPluginWithEnv(
  env: NodeJS.ProcessEnv,
  stdin: string | object,
  plugin = PLUGIN,
): Promise<CniOutcome> {
  const input = typeof stdin === 'string' ? stdin : JSON.stringify(stdin);
  let out: { stdout: string; stderr: string; exitCode: number };
  try {
    out = { ...(await run([plugin], { env, input, timeoutMs: 120_000 })), exitCode: 0 };
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    out = { stdout: err.stdout, stderr: err.stderr, exitCode: err.exitCode ?? -1 };
  }
  let json: Record<string, unknown> | undefined;
  try {
    json = out.stdout.trim() ? (JSON.parse(out.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { ...out, json };
}
