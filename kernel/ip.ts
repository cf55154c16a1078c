// Runs iproute2, optionally inside a named network namespace (`ip -n NS`).

import { toKernelError } from './errors.js';
import { type RunResult, run } from './exec.js';
import { type IpCommand, renderIpBatch, renderIpCommand } from './ip-commands.js';

const IP = 'ip';

function argvFor(netns: string | undefined, args: readonly string[]): string[] {
  return netns ? [IP, '-n', netns, ...args] : [IP, ...args];
}

/** Runs `ip [-n netns] args...`; failures become KernelError. */
export async function ip(
  netns: string | undefined,
  args: readonly string[],
  input?: string,
): Promise<RunResult> {
  try {
    return await run(argvFor(netns, args), { input, timeoutMs: 30_000 });
  } catch (e) {
    throw toKernelError(e);
  }
}

/** Runs `ip -json ...` and parses its output. */
export async function ipJson<T>(netns: string | undefined, args: readonly string[]): Promise<T> {
  const { stdout } = await ip(netns, ['-json', ...args]);
  return (stdout.trim() ? JSON.parse(stdout) : []) as T;
}

/** Applies commands in one `ip -batch -` process (one exec for the whole list). */
export async function ipBatch(netns: string | undefined, cmds: readonly IpCommand[]): Promise<void> {
  if (cmds.length === 0) return;
  if (cmds.length === 1) {
    await ip(netns, renderIpCommand(cmds[0] as IpCommand));
    return;
  }
  await ip(netns, ['-batch', '-'], renderIpBatch(cmds));
}

/**
 * Runs `ip args...` inside the network namespace at `path` (any path: /run/netns/X,
 * /var/run/netns/cni-…, /proc/PID/ns/net), through nsenter, since `ip -n` only takes names.
 */
export async function ipInPath(path: string, args: readonly string[], input?: string): Promise<RunResult> {
  try {
    return await run(['nsenter', `--net=${path}`, '--', IP, ...args], { input, timeoutMs: 30_000 });
  } catch (e) {
    throw toKernelError(e);
  }
}
