// The gobgpd sidecar's supervisor. 'external' (DaemonSet: gobgpd is a second container): wait
// until its API answers, then watch it and call onRestart when it comes back after going away.
// 'spawn' (lab: gobgpd is the agent's child, in the agent's network namespace): adopt a gobgpd
// already answering at the address (left by a SIGKILLed agent), else start one configured purely
// over gRPC (no -f), restart it with backoff when it dies, and call onRestart once the new one
// answers (it has nothing: the agent re-applies everything). stop() SIGTERMs, so gobgpd sends
// its Cease (peers keep our routes under graceful restart with notificationEnabled).
import { createWriteStream, existsSync, lstatSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../felix/log.js';
import {
  isRunning,
  listProcesses,
  type ProcessRef,
  refFor,
  type StreamingChild,
  type StreamingExit,
  type StreamingOptions,
  spawnStreaming,
  terminate,
} from '../kernel/index.js';
import { GobgpClient } from './gobgp-client.js';
import { GobgpError } from './gobgp-errors.js';

export interface GobgpdSupervisorOptions {
  mode: 'spawn' | 'external';
  /** Default /usr/bin/gobgpd. */
  gobgpdPath?: string;
  /** gobgpd's gRPC API: `127.0.0.1:50051` (default) or `unix:///path/to.sock`. */
  apiAddress?: string;
  /** spawn: append gobgpd's output here instead of logging it (debug; warnings at warn). */
  logFile?: string;
  /**
   * spawn: run gobgpd in this named network namespace (`ip netns exec`) instead of ours. Tests
   * use it from the root namespace; the API must then be a unix socket (filesystem objects are
   * reachable from every namespace, 127.0.0.1 inside the namespace is not).
   */
  netns?: string;
  /** gobgpd --log-level (it knows only these two). */
  logLevel?: 'info' | 'debug';
  log: Log;
  /** gobgpd came back empty after dying (restart, or the sidecar came back): re-apply everything. */
  onRestart?: () => void;
  /** Restart delay: doubles from initialMs to maxMs; back to initialMs after a run of stableMs. */
  backoff?: BackoffOptions;
  /** How long start() waits for the API (default 60 s), and each new child (default 30 s). */
  readyTimeoutMs?: number;
  /** Health poll of an external or adopted gobgpd (default 1 s). */
  pollMs?: number;
  // Test seams.
  /** Does the API answer? Default: GetBgp over a client of its own. */
  probe?: () => Promise<boolean>;
  spawn?: (argv: readonly string[], opts: StreamingOptions) => StreamingChild;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  stableMs: number;
}

export const DEFAULT_GOBGPD_PATH = '/usr/bin/gobgpd';
export const DEFAULT_API_ADDRESS = '127.0.0.1:50051';
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 5_000, stableMs: 30_000 };
const STOP_GRACE_MS = 5_000;

export type SupervisorState =
  /** not started yet */
  | 'idle'
  /** waiting for the API: our child starting, or the external/adopted one */
  | 'starting'
  /** the API answers */
  | 'running'
  /** our child died; the next one starts after a delay (spawn), or waiting for it to come back (external) */
  | 'down'
  | 'stopped';

// ---- pure parts ----

/** Restart delays: doubling from initialMs to maxMs; a run of stableMs or more starts over. */
export class RestartBackoff {
  #next: number;
  constructor(private readonly o: BackoffOptions = DEFAULT_BACKOFF) {
    this.#next = o.initialMs;
  }
  /** The delay before the next start, given how long the last run lasted. */
  next(ranMs: number): number {
    if (ranMs >= this.o.stableMs) this.#next = this.o.initialMs;
    const d = this.#next;
    this.#next = Math.min(this.#next * 2, this.o.maxMs);
    return d;
  }
}

/** The socket path of a `unix:///path` address (also `unix:/path`); undefined for host:port. */
export function unixSocketPath(apiAddress: string): string | undefined {
  if (!apiAddress.startsWith('unix:')) return undefined;
  const rest = apiAddress.slice('unix:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

/** gobgpd configured purely over gRPC: API on `apiAddress` only, no pprof, no config file. */
export function gobgpdArgv(o: {
  gobgpdPath: string;
  apiAddress: string;
  logLevel: 'info' | 'debug';
  netns?: string;
}): string[] {
  const argv = [o.gobgpdPath, '--api-hosts', o.apiAddress, '--pprof-disable', '--log-level', o.logLevel];
  // `ip netns exec` execs gobgpd in place (no fork), so our child's pid is gobgpd's.
  return o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
}

/** gobgpd's JSON log line → our level and a short message (plain lines stay debug). */
export function gobgpdLogLine(line: string): { level: 'debug' | 'warn'; msg: string; fields?: object } {
  if (!line.startsWith('{')) return { level: 'debug', msg: line };
  try {
    const { level, msg, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const warn = level === 'warning' || level === 'error' || level === 'fatal' || level === 'panic';
    return { level: warn ? 'warn' : 'debug', msg: typeof msg === 'string' ? msg : line, fields };
  } catch {
    return { level: 'debug', msg: line };
  }
}

// ---- the supervisor ----

export class GobgpdSupervisor {
  readonly mode: 'spawn' | 'external';
  readonly apiAddress: string;
  readonly #o: GobgpdSupervisorOptions;
  readonly #log: Log;
  readonly #backoff: RestartBackoff;
  readonly #readyTimeoutMs: number;
  readonly #pollMs: number;
  readonly #spawn: (argv: readonly string[], opts: StreamingOptions) => StreamingChild;
  #probeClient: GobgpClient | undefined;
  #state: SupervisorState = 'idle';
  #child: StreamingChild | undefined;
  #childStartedAt = 0;
  #adopted: ProcessRef | undefined;
  #restarts = 0;
  #everUp = false;
  #timer: NodeJS.Timeout | undefined;
  #logStream: WriteStream | undefined;
  /** Bumped on every start of a wait or a child: late callbacks of older ones are ignored. */
  #epoch = 0;
  /** Rejections of a start() in progress, run by stop(). */
  readonly #stopWaiters = new Set<() => void>();

  constructor(o: GobgpdSupervisorOptions) {
    this.#o = o;
    this.mode = o.mode;
    this.apiAddress = o.apiAddress ?? DEFAULT_API_ADDRESS;
    this.#log = o.log;
    this.#backoff = new RestartBackoff(o.backoff ?? DEFAULT_BACKOFF);
    this.#readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
    this.#pollMs = o.pollMs ?? 1_000;
    this.#spawn = o.spawn ?? spawnStreaming;
    if (o.netns && o.mode === 'spawn' && !unixSocketPath(this.apiAddress))
      throw new Error(`gobgpd in netns ${o.netns}: its API must be a unix:// socket, not ${this.apiAddress}`);
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** gobgpd's pid: our child's, or the adopted one's; undefined for an external one. */
  get pid(): number | undefined {
    return this.#child?.pid ?? this.#adopted?.pid;
  }

  /** How often gobgpd came back after dying (each one an onRestart). */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Resolves once the API answers; rejects (and stops) when it does not within readyTimeoutMs,
   * and at once when stop() is called meanwhile.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`GobgpdSupervisor.start: already ${this.#state}`);
    this.#state = 'starting';
    const deadline = Date.now() + this.#readyTimeoutMs;
    try {
      await this.#untilStopped(this.#starting(deadline));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** `work`, or a rejection as soon as stop() is called (work then ends by itself: #epoch). */
  #untilStopped(work: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onStop = () => reject(stoppedWhileStarting());
      this.#stopWaiters.add(onStop);
      work.then(resolve, reject).finally(() => this.#stopWaiters.delete(onStop));
    });
  }

  async #starting(deadline: number): Promise<void> {
    if (this.mode === 'external') {
      this.#log.info({ api: this.apiAddress }, 'waiting for the gobgpd sidecar');
      if (!(await this.#waitUp(deadline, () => true)) || this.#stopped()) throw stoppedWhileStarting();
      this.#log.info({ api: this.apiAddress }, 'gobgpd sidecar answers');
      this.#running();
      this.#poll();
      return;
    }
    const answers = await this.#probe();
    if (this.#stopped()) throw stoppedWhileStarting();
    if (answers) {
      this.#adopted = this.#findRunning();
      this.#log.info(
        { api: this.apiAddress, pid: this.#adopted?.pid },
        'adopting the gobgpd already running',
      );
      this.#running();
      this.#poll();
      return;
    }
    const path = this.#o.gobgpdPath ?? DEFAULT_GOBGPD_PATH;
    if (!this.#o.spawn && !existsSync(path))
      throw new Error(`gobgpd not found at ${path} (Debian package gobgpd; npm run setup installs it)`);
    await this.#startChild(deadline);
  }

  /** Stops supervising; our child (or the adopted gobgpd) gets SIGTERM, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#epoch++;
    for (const onStop of [...this.#stopWaiters]) onStop();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const child = this.#child;
    const adopted = this.#adopted;
    this.#child = undefined;
    this.#adopted = undefined;
    if (child) {
      const exit = await child.kill(STOP_GRACE_MS);
      this.#log.info({ pid: child.pid, code: exit.code, signal: exit.signal }, 'gobgpd stopped');
    } else if (adopted && this.mode === 'spawn') {
      await terminate([adopted], STOP_GRACE_MS);
      this.#log.info({ pid: adopted.pid }, 'adopted gobgpd stopped');
    }
    this.#probeClient?.close();
    this.#probeClient = undefined;
    const stream = this.#logStream;
    this.#logStream = undefined;
    if (stream) await new Promise<void>((r) => stream.end(r));
  }

  // ---- internals ----

  /** (A method, so TypeScript does not keep a narrowed #state across awaits.) */
  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  /** The API answers. Every time but the first, gobgpd came back empty: onRestart. */
  #running(): void {
    this.#state = 'running';
    if (!this.#everUp) {
      this.#everUp = true;
      return;
    }
    this.#restarts++;
    this.#log.warn(
      { pid: this.pid, restarts: this.#restarts },
      'gobgpd restarted; the agent re-applies its state',
    );
    try {
      this.#o.onRestart?.();
    } catch (e) {
      this.#log.error({ err: e }, 'gobgpd onRestart handler threw');
    }
  }

  async #probe(): Promise<boolean> {
    if (this.#o.probe) return this.#o.probe();
    this.#probeClient ??= new GobgpClient({ target: this.apiAddress, timeoutMs: 2_000 });
    try {
      await this.#probeClient.getGlobal();
      return true;
    } catch (e) {
      // Any answer, even an error, means gobgpd is there; only "unreachable" is down.
      return !(e instanceof GobgpError && e.kind === 'unavailable');
    }
  }

  /** Polls until the API answers; `alive` false (our child died) or the deadline stop the wait. */
  async #waitUp(deadline: number, alive: () => boolean): Promise<boolean> {
    const epoch = this.#epoch;
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      if (epoch !== this.#epoch || !alive()) return false;
      if (await this.#probe()) return epoch === this.#epoch;
      if (Date.now() >= deadline) {
        throw new Error(`gobgpd API ${this.apiAddress} did not answer within ${this.#readyTimeoutMs} ms`);
      }
      await sleep(delay);
    }
  }

  /** A gobgpd answering at our address: a SIGKILLed agent's child (spawn mode adopts it). */
  #findRunning(): ProcessRef | undefined {
    const needle = `--api-hosts ${this.apiAddress}`;
    const ns = this.#o.netns ? `/run/netns/${this.#o.netns}` : '/proc/self/ns/net';
    const p = listProcesses().find(
      (x) => x.comm === 'gobgpd' && x.cmdline.includes(needle) && sameFile(`/proc/${x.pid}/ns/net`, ns),
    );
    return p ? refFor(p.pid, 'gobgpd') : undefined;
  }

  /** The first child: resolves once one answers (a child that dies first is replaced by #exited). */
  async #startChild(deadline: number): Promise<void> {
    this.#spawnChild();
    void this.#awaitChild(this.#child);
    while (this.#state !== 'running') {
      if (this.#stopped()) throw stoppedWhileStarting();
      if (Date.now() >= deadline)
        throw new Error(`gobgpd API ${this.apiAddress} did not answer within ${this.#readyTimeoutMs} ms`);
      await sleep(50);
    }
  }

  #spawnChild(): void {
    const socket = unixSocketPath(this.apiAddress);
    // A socket left by kill -9 makes gobgpd exit: "bind: address already in use".
    if (socket) removeStaleSocket(socket);
    const argv = gobgpdArgv({
      gobgpdPath: this.#o.gobgpdPath ?? DEFAULT_GOBGPD_PATH,
      apiAddress: this.apiAddress,
      logLevel: this.#o.logLevel ?? 'info',
      netns: this.#o.netns,
    });
    if (this.#o.logFile && !this.#logStream)
      this.#logStream = createWriteStream(this.#o.logFile, { flags: 'a' });
    const onLine = (line: string) => this.#gobgpdLine(line);
    this.#childStartedAt = Date.now();
    this.#state = 'starting';
    const child = this.#spawn(argv, {
      onStdoutLine: onLine,
      onStderrLine: onLine,
      onSpawn: (pid) => this.#log.info({ pid, argv }, 'gobgpd started'),
      onExit: (exit) => this.#exited(child, exit),
    });
    this.#child = child;
  }

  #gobgpdLine(line: string): void {
    if (this.#logStream) {
      this.#logStream.write(`${line}\n`);
      return;
    }
    const l = gobgpdLogLine(line);
    if (l.level === 'warn') this.#log.warn({ gobgpd: l.fields }, `gobgpd: ${l.msg}`);
    else this.#log.debug({ gobgpd: l.fields }, `gobgpd: ${l.msg}`);
  }

  #exited(child: StreamingChild, exit: StreamingExit): void {
    if (this.#child !== child || this.#state === 'stopped') return;
    this.#child = undefined;
    this.#state = 'down';
    this.#epoch++;
    const delay = this.#backoff.next(Date.now() - this.#childStartedAt);
    this.#log.warn({ pid: child.pid, ...exit, restartInMs: delay }, 'gobgpd exited; restarting');
    this.#scheduleRestart(delay);
  }

  #scheduleRestart(delay: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#stopped()) this.#restart();
    }, delay);
  }

  /** Spawn mode: a new child after a dead one (or after the adopted gobgpd went away). */
  #restart(): void {
    this.#spawnChild();
    void this.#awaitChild(this.#child);
  }

  /** Waits for a child's API; then it is running, and if gobgpd was up before, that is a restart. */
  async #awaitChild(child: StreamingChild | undefined): Promise<void> {
    if (!child) return;
    try {
      const deadline = Date.now() + Math.min(this.#readyTimeoutMs, 30_000);
      if (!(await this.#waitUp(deadline, () => this.#child === child))) return; // died or stopped
    } catch (e) {
      // Alive but not answering: kill it; #exited schedules the next one.
      this.#log.warn({ err: e, pid: child.pid }, 'gobgpd does not answer; killing it');
      await child.kill(1_000);
      return;
    }
    this.#log.info({ pid: child.pid, api: this.apiAddress }, 'gobgpd answers');
    this.#running();
  }

  /** Health poll of a gobgpd that is not our child (external, adopted). */
  #poll(): void {
    const epoch = this.#epoch;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      if (epoch !== this.#epoch || this.#stopped()) return;
      const up = await this.#probe();
      if (epoch !== this.#epoch || this.#stopped()) return;
      if (!up && this.#state === 'running') {
        this.#state = 'down';
        if (this.mode === 'spawn') {
          // The adopted gobgpd died (nobody reaps it but its parent): start our own.
          this.#log.warn({ pid: this.#adopted?.pid }, 'adopted gobgpd went away; starting our own');
          if (this.#adopted && isRunning(this.#adopted)) await terminate([this.#adopted], 1_000);
          this.#adopted = undefined;
          this.#scheduleRestart(0);
          return;
        }
        this.#log.warn({ api: this.apiAddress }, 'gobgpd sidecar went away; waiting for it');
      } else if (up && this.#state === 'down') {
        this.#log.warn({ api: this.apiAddress }, 'gobgpd sidecar is back');
        this.#running();
      }
      this.#poll();
    }, this.#pollMs);
  }
}

const stoppedWhileStarting = (): Error => new Error('gobgpd supervisor stopped while starting');

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // not there
  }
}
