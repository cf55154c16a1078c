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

export interface StreamingOptions {
  /** Each complete line of standard output, without its newline. */
  onStdoutLine(line: string): void;
  /** Each complete line of standard error. */
  onStderrLine?(line: string): void;
  /** The program has been exec'd. */
  onSpawn?(pid: number): void;
  /** The program ended (or could not be started: code and signal null, `error` set). Called once. */
  onExit(info: StreamingExit): void;
  env?: NodeJS.ProcessEnv;
}

export interface StreamingExit {
  code: number | null;
  signal: string | null;
  error?: string;
}

export interface StreamingChild {
  readonly pid: number | undefined;
  /** Resolves once the program has ended (never rejects). */
  readonly exited: Promise<StreamingExit>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the program is gone. */
  kill(graceMs?: number): Promise<StreamingExit>;
}

/** Streaming children still running; killed synchronously when this process exits. */
const liveStreamingChildren = new Set<ReturnType<typeof spawn>>();
let exitHookInstalled = false;

function killStreamingChildrenOnExit(): void {
  for (const child of liveStreamingChildren) child.kill('SIGKILL');
}

/** Splits a byte stream into lines; a trailing partial line waits for the next chunk. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      const text = rest + chunk;
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    },
    end() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

/**
 * Starts a long-running program whose output is consumed line by line (e.g. `ip monitor`). It is
 * a child of this process: `kill()` ends it for sure, and it is SIGKILLed if this process exits.
 */
export function spawnStreaming(argv: readonly string[], opts: StreamingOptions): StreamingChild {
  const [file, ...args] = argv;
  if (!file) throw new Error('spawnStreaming: empty argv');
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  liveStreamingChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killStreamingChildrenOnExit);
  }
  const out = lineSplitter((l) => opts.onStdoutLine(l));
  const err = lineSplitter((l) => opts.onStderrLine?.(l));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (s: string) => out.push(s));
  child.stderr.on('data', (s: string) => err.push(s));
  child.once('spawn', () => opts.onSpawn?.(child.pid as number));

  let ended = false;
  const exited = new Promise<StreamingExit>((resolve) => {
    const finish = (info: StreamingExit) => {
      if (ended) return;
      ended = true;
      liveStreamingChildren.delete(child);
      out.end();
      err.end();
      opts.onExit(info);
      resolve(info);
    };
    child.on('error', (e) => {
      // A spawn failure emits 'error' and no 'close'; a kill failure on a live child is ignored.
      if (child.pid === undefined) finish({ code: null, signal: null, error: e.message });
    });
    child.stdout.on('error', () => {});
    child.stderr.on('error', () => {});
    child.once('close', (code, signal) => finish({ code, signal }));
  });

  return {
    get pid() {
      return child.pid;
    },
    exited,
    async kill(graceMs = 1000) {
      if (ended) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
