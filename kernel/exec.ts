// The only file in tabby that starts processes. Everything that runs a program (ip, sysctl,
// FRR daemons, vtysh, etcd, kube-apiserver) goes through here, so the boundary to the host is
// one place: easy to audit, easy to fake.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export class ExecError extends Error {
  readonly code = 'TABBY_EXEC';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    const why = exitCode !== null ? `exit code ${exitCode}` : `signal ${signal}`;
    const detail = stderr.trim() || stdout.trim();
    super(`${argv.join(' ')}: ${why}${detail ? `: ${detail}` : ''}`);
    this.name = 'ExecError';
  }
}

export interface RunOptions {
  /** Written to the program's standard input (then closed). */
  input?: string;
  /** Kill the program (SIGKILL) after this long. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; rejects with ExecError on a non-zero exit, a signal or a spawn failure. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new ExecError(argv, null, null, e.message, '')));
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new ExecError(argv, code, signal, stderr, stdout));
    });
    child.stdin.on('error', () => {}); // the program may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a program with the caller's terminal (stdin/stdout/stderr inherited); resolves to its exit code. */
export function runInteractive(argv: readonly string[]): Promise<number> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('runInteractive: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export interface DaemonOptions {
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts a long-running program in its own session, detached from this process, so it outlives
 * a CLI invocation. Resolves to its pid once the program has been exec'd.
 */
export function spawnDaemon(argv: readonly string[], opts: DaemonOptions): Promise<number> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('spawnDaemon: empty argv'));
  const fd = openSync(opts.logFile, 'a');
  return new Promise<number>((resolve, reject) => {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    child.once('error', (e) => reject(new ExecError(argv, null, null, e.message, '')));
    child.once('spawn', () => {
      child.unref();
      resolve(child.pid as number);
    });
  }).finally(() => closeSync(fd));
}
