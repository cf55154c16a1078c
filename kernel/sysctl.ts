// Sysctls of the calling process's own network namespace, written through /proc/sys directly
// (no process per value: /proc/sys/net resolves to the namespace of whoever opens it).
// Keys are paths below /proc/sys, e.g. `net/ipv4/conf/tby0a1b2c3d4e5/proxy_arp`.
import { readFile, writeFile } from 'node:fs/promises';
import { KernelError } from './errors.js';

const KEY = /^[a-z0-9_]+(\/[A-Za-z0-9_.-]+)+$/;

function procPath(key: string): string {
  if (!KEY.test(key) || key.includes('..')) throw new KernelError(`sysctl ${key}`, 'EINVAL', 'invalid key');
  return `/proc/sys/${key}`;
}

function asKernelError(op: string, e: unknown): KernelError {
  const err = e as NodeJS.ErrnoException;
  const errno =
    err.code === 'ENOENT' ? 'ENOENT' : err.code === 'EACCES' || err.code === 'EPERM' ? 'EPERM' : 'EUNKNOWN';
  return new KernelError(op, errno, err.message);
}

/** Writes every value (in parallel); the first failure is thrown as a KernelError. */
export async function writeSysctls(values: Readonly<Record<string, string | number>>): Promise<void> {
  await Promise.all(
    Object.entries(values).map(async ([key, value]) => {
      try {
        await writeFile(procPath(key), String(value));
      } catch (e) {
        throw asKernelError(`sysctl ${key}=${value}`, e);
      }
    }),
  );
}

/** The value of one sysctl, trimmed; undefined when it does not exist (e.g. the device is gone). */
export async function readSysctl(key: string): Promise<string | undefined> {
  try {
    return (await readFile(procPath(key), 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw asKernelError(`sysctl ${key}`, e);
  }
}
