// BIRD 2 inside a lab router's namespace (`tabby.dev/bgp-daemon: bird`): start it, and read its
// BGP sessions (`birdc show protocols all`) in the same shape as FRR's (lab/frr.ts).
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, type ProcessRef, refFor, run, spawnDaemon } from '../kernel/index.js';
import { LabError } from './errors.js';
import type { BgpSession } from './frr.js';

export const BIRD = process.env.TABBY_BIRD ?? 'bird';
export const BIRDC = process.env.TABBY_BIRDC ?? 'birdc';

/** The control socket of the BIRD in `runDir`. */
export const birdSocket = (runDir: string): string => join(runDir, 'bird.ctl');

function onPath(program: string): boolean {
  const dirs = program.includes('/')
    ? ['']
    : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((d) => {
    try {
      accessSync(d ? join(d, program) : program, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function checkBirdInstalled(): void {
  for (const p of [BIRD, BIRDC]) {
    if (!onPath(p)) throw new LabError(`BIRD is not installed (${p} not found): run \`npm run setup\``);
  }
}

/**
 * Starts `bird` in the foreground (so its pid is the daemon's) inside `netns`, with its config,
 * control socket, pid file and log in `runDir`; resolves once it answers on its socket.
 */
export async function startBird(
  netns: string,
  runDir: string,
  conf: string,
  onStarted: (p: ProcessRef) => void,
): Promise<void> {
  mkdirSync(runDir, { recursive: true });
  const confFile = join(runDir, 'bird.conf');
  writeFileSync(confFile, conf);
  const argv = [
    'ip',
    'netns',
    'exec',
    netns,
    BIRD,
    '-f',
    '-c',
    confFile,
    '-s',
    birdSocket(runDir),
    '-P',
    join(runDir, 'bird.pid'),
  ];
  const ref = refFor(await spawnDaemon(argv, { logFile: join(runDir, 'bird.out') }), `bird@${netns}`);
  onStarted(ref);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (existsSync(birdSocket(runDir))) {
      try {
        await birdc(runDir, ['show', 'status']);
        return;
      } catch {
        // the socket exists before BIRD listens on it
      }
    }
    if (!isRunning(ref))
      throw new LabError(`${ref.name} exited at start; see ${runDir}/bird.out and bird.log`);
    if (Date.now() > deadline) throw new LabError(`${ref.name} did not answer within 15 s; see ${runDir}`);
    await sleep(25);
  }
}

export async function birdc(runDir: string, args: string[]): Promise<string> {
  const { stdout } = await run([BIRDC, '-s', birdSocket(runDir), ...args], { timeoutMs: 10_000 });
  return stdout;
}

/** `timeformat protocol iso long` ("2026-11-21 15:39:26", local time) → epoch ms. */
function parseSince(date: string, time: string): number | undefined {
  const ms = new Date(`${date}T${time}`).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Parses `birdc show protocols all`: one session per BGP protocol. Pure (`now` for uptimes).
 * The protocol's description is the peer node's name (bird-config.ts renders it so).
 */
export function parseBirdProtocols(text: string, now = Date.now()): BgpSession[] {
  const out: BgpSession[] = [];
  // Protocol blocks start at a line with no indentation: name, proto, table, state, since, info.
  const blocks: string[][] = [];
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  for (const [head = '', ...body] of blocks) {
    const cols = head.trim().split(/\s+/);
    if (cols[1] !== 'BGP') continue;
    const field = (name: string) => {
      const re = new RegExp(`^\\s*${name}:\\s*(.*?)\\s*$`);
      for (const l of body) {
        const m = re.exec(l);
        if (m) return m[1];
      }
      return undefined;
    };
    const peer = field('Neighbor address') ?? '';
    const state = field('BGP state') ?? cols.slice(6).join(' ') ?? 'unknown';
    const since = cols[4] && cols[5] ? parseSince(cols[4], cols[5]) : undefined;
    const routes = /(\d+) imported.*?(\d+) exported/.exec(field('Routes') ?? '');
    out.push({
      family: peer.includes(':') ? 6 : 4,
      peer,
      description: field('Description'),
      remoteAs: Number(field('Neighbor AS') ?? 0),
      state,
      uptimeMs: state === 'Established' && since !== undefined ? Math.max(0, now - since) : 0,
      prefixesReceived: Number(routes?.[1] ?? 0),
      prefixesSent: Number(routes?.[2] ?? 0),
    });
  }
  return out;
}

export async function birdSessions(runDir: string): Promise<BgpSession[]> {
  return parseBirdProtocols(await birdc(runDir, ['show', 'protocols', 'all']));
}
