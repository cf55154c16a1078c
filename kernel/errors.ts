// Typed kernel errors. `ip` reports netlink errors as text on stderr; this is the one place
// that turns that text into an errno-like code, so callers branch on codes, never on messages.
import { ExecError } from './exec.js';

export type KernelErrno = 'EEXIST' | 'ENOENT' | 'EBUSY' | 'EPERM' | 'EINVAL' | 'ENETUNREACH' | 'EUNKNOWN';

export class KernelError extends Error {
  readonly code = 'TABBY_KERNEL';
  constructor(
    /** What was attempted, e.g. `ip -n lab-a link add eth1 ...`. */
    readonly op: string,
    readonly errno: KernelErrno,
    readonly detail: string,
  ) {
    super(`${op}: ${detail || errno}`);
    this.name = 'KernelError';
  }
}

const patterns: [RegExp, KernelErrno][] = [
  [/File exists|already exists/i, 'EEXIST'],
  [/Cannot find device|No such file or directory|No such process|does not exist|not found/i, 'ENOENT'],
  [/Device or resource busy/i, 'EBUSY'],
  [/Operation not permitted|Permission denied/i, 'EPERM'],
  [/Network is unreachable|Nexthop has invalid gateway/i, 'ENETUNREACH'],
  [/Invalid argument|Error: .* (is )?invalid|Error: argument/i, 'EINVAL'],
];

export function errnoFromText(text: string): KernelErrno {
  for (const [re, errno] of patterns) if (re.test(text)) return errno;
  return 'EUNKNOWN';
}

/** Converts an ExecError from a kernel tool into a KernelError; anything else passes through. */
export function toKernelError(e: unknown): unknown {
  if (!(e instanceof ExecError)) return e;
  const detail = (e.stderr || e.stdout).trim();
  return new KernelError(e.argv.join(' '), errnoFromText(detail), detail);
}

export const isKernelErrno = (e: unknown, errno: KernelErrno): boolean =>
  e instanceof KernelError && e.errno === errno;
