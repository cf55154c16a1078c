// Named network namespaces (/run/netns/NAME).

import { isKernelErrno, toKernelError } from './errors.js';
import { run } from './exec.js';
import { ip } from './ip.js';

export async function listNetns(): Promise<string[]> {
  const { stdout } = await ip(undefined, ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns()).includes(name);
}

export async function addNetns(name: string): Promise<void> {
  await ip(undefined, ['netns', 'add', name]);
  await ip(name, ['link', 'set', 'dev', 'lo', 'up']);
}

/** Deletes a namespace; one that does not exist counts as deleted. */
export async function deleteNetns(name: string): Promise<void> {
  try {
    await ip(undefined, ['netns', 'delete', name]);
  } catch (e) {
    if (!isKernelErrno(e, 'ENOENT')) throw e;
  }
}

/** Pids of every process whose network namespace is `name`. */
export async function netnsPids(name: string): Promise<number[]> {
  try {
    const { stdout } = await ip(undefined, ['netns', 'pids', name]);
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  } catch (e) {
    if (isKernelErrno(e, 'ENOENT')) return [];
    throw e;
  }
}

/** Runs a program inside a namespace and returns its output (rejects on non-zero exit). */
export async function runInNetns(
  name: string,
  argv: readonly string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  return run(['ip', 'netns', 'exec', name, ...argv], opts);
}

/** Sets sysctls inside a namespace, all in one process. */
export async function setSysctls(
  name: string,
  values: Readonly<Record<string, string | number>>,
): Promise<void> {
  const pairs = Object.entries(values).map(([k, v]) => {
    if (!/^[a-z0-9_.]+$/i.test(k)) throw new Error(`sysctl: invalid key ${JSON.stringify(k)}`);
    return `${k}=${v}`;
  });
  if (pairs.length === 0) return;
  try {
    await run(['ip', 'netns', 'exec', name, 'sysctl', '-q', '-w', ...pairs]);
  } catch (e) {
    throw toKernelError(e);
  }
}
