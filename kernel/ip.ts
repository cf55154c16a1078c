// Runs iproute2, optionally inside a named network namespace (`ip -n NS`).

import { toKernelError } from './errors.js';
import { type RunResult, run } from './exec.js';
import { type IpCommand, renderIpBatch, renderIpCommand } from './ip-commands.js';

const IP = 'ip';
const TIMEOUT_MS = 30_000;

/** argv of `ip [-n netns] args...` (the one place that spells the namespace option). */
export const ipArgv = (netns: string | undefined, args: readonly string[]): string[] =>
  netns ? [IP, '-n', netns, ...args] : [IP, ...args];

async function runIp(argv: readonly string[], input: string | undefined): Promise<RunResult> {
  try {
    return await run(argv, { input, timeoutMs: TIMEOUT_MS });
  } catch (e) {
    throw toKernelError(e);
  }
}

const parseJson = <T>(stdout: string): T => (stdout.trim() ? JSON.parse(stdout) : []) as T;

/** Runs `ip [-n netns] args...`; failures become KernelError. */
export const ip = (netns: string | undefined, args: readonly string[], input?: string): Promise<RunResult> =>
  runIp(ipArgv(netns, args), input);

/** Runs `ip -json ...` and parses its output. */
export async function ipJson<T>(netns: string | undefined, args: readonly string[]): Promise<T> {
  return parseJson<T>((await ip(netns, ['-json', ...args])).stdout);
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
export const ipInPath = (path: string, args: readonly string[], input?: string): Promise<RunResult> =>
  runIp(['nsenter', `--net=${path}`, '--', IP, ...args], input);

/** Runs `ip -json ...` inside the namespace at `path` and parses its output. */
export async function ipJsonInPath<T>(path: string, args: readonly string[]): Promise<T> {
  return parseJson<T>((await ipInPath(path, ['-json', ...args])).stdout);
}
