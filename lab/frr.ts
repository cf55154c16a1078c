// FRR (zebra + bgpd) inside a lab router's namespace: start, and read its BGP state as JSON.
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, type ProcessRef, refFor, run, spawnDaemon } from '../kernel/index.js';
import { LabError } from './errors.js';
import type { LabRole } from './topology/types.js';

export const FRR_DIR = process.env.TABBY_FRR_DIR ?? '/usr/lib/frr';
const VTYSH = process.env.TABBY_VTYSH ?? 'vtysh';

export function checkFrrInstalled(): void {
  for (const d of ['zebra', 'bgpd']) {
    if (!existsSync(join(FRR_DIR, d))) {
      throw new LabError(`FRR is not installed (${join(FRR_DIR, d)} is missing): run \`npm run setup\``);
    }
  }
}

/** uid/gid of the `frr` user: FRR daemons drop to it and need to own their runtime directory. */
function frrIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('frr:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new LabError('user "frr" not found: run `npm run setup`');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface FrrConfigs {
  zebra: string;
  bgpd: string;
}

/** Starts zebra, then bgpd, in `netns`; resolves once both answer on their vty sockets. */
export async function startFrr(
  netns: string,
  runDir: string,
  conf: FrrConfigs,
  onStarted: (p: ProcessRef) => void,
): Promise<void> {
  const { uid, gid } = frrIds();
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'zebra.conf'), conf.zebra);
  writeFileSync(join(runDir, 'bgpd.conf'), conf.bgpd);
  for (const f of ['', 'zebra.conf', 'bgpd.conf']) chownSync(join(runDir, f), uid, gid);
  const common = ['--vty_socket', runDir, '-z', join(runDir, 'zserv.api'), '-P', '0'];
  for (const daemon of ['zebra', 'bgpd'] as const) {
    const argv = [
      'ip',
      'netns',
      'exec',
      netns,
      join(FRR_DIR, daemon),
      '-f',
      join(runDir, `${daemon}.conf`),
      '-i',
      join(runDir, `${daemon}.pid`),
      ...common,
    ];
    const pid = await spawnDaemon(argv, { logFile: join(runDir, `${daemon}.out`) });
    const ref = refFor(pid, `${daemon}@${netns}`);
    onStarted(ref);
    await waitFor(join(runDir, `${daemon}.vty`), ref, runDir);
  }
}

async function waitFor(socket: string, ref: ProcessRef, runDir: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (existsSync(socket)) return;
    if (!isRunning(ref)) {
      throw new LabError(`${ref.name} exited at start; see ${runDir}/*.out and *.log`);
    }
    await sleep(25);
  }
  throw new LabError(`${ref.name} did not open ${socket} within 15 s; see ${runDir}`);
}

/** Runs a vtysh command against the daemons whose sockets are in `runDir`; its text output. */
export async function vtysh(runDir: string, command: string): Promise<string> {
  const { stdout } = await run([VTYSH, '--vty_socket', runDir, '-c', command], { timeoutMs: 10_000 });
  return stdout;
}

/** The same, for a command with JSON output. */
export async function vtyshJson<T>(runDir: string, command: string): Promise<T> {
  return JSON.parse(await vtysh(runDir, command)) as T;
}

/** One BGP session of a lab router, from FRR's or BIRD's own report. */
export interface BgpSession {
  family: 4 | 6;
  peer: string;
  description?: string;
  /**
   * What the peer is, from the lab's record of the router's neighbors: `router` sessions must
   * come up with the lab; `node` (server) sessions come up once tabby runs on the server.
   */
  peerRole?: LabRole;
  /** The peer's lab node. */
  peerNode?: string;
  remoteAs: number;
  state: string;
  uptimeMs: number;
  prefixesReceived: number;
  prefixesSent: number;
}

interface FrrSummaryPeer {
  remoteAs: number;
  state: string;
  peerUptimeMsec?: number;
  pfxRcd?: number;
  pfxSnt?: number;
  desc?: string;
}
type FrrSummary = Record<string, { peers?: Record<string, FrrSummaryPeer> }>;

/** Parses `show bgp summary json` (all address families). Pure. */
export function parseBgpSummary(summary: FrrSummary): BgpSession[] {
  const out: BgpSession[] = [];
  for (const [afi, body] of Object.entries(summary)) {
    const family = afi.startsWith('ipv6') ? 6 : 4;
    for (const [peer, p] of Object.entries(body?.peers ?? {})) {
      out.push({
        family,
        peer,
        description: p.desc,
        remoteAs: p.remoteAs,
        state: p.state,
        uptimeMs: p.peerUptimeMsec ?? 0,
        prefixesReceived: p.pfxRcd ?? 0,
        prefixesSent: p.pfxSnt ?? 0,
      });
    }
  }
  return out;
}

export async function bgpSessions(runDir: string): Promise<BgpSession[]> {
  return parseBgpSummary(await vtyshJson<FrrSummary>(runDir, 'show bgp summary json'));
}
