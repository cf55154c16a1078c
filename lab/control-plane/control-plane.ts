// A local Kubernetes control plane for tests and the lab: etcd + kube-apiserver on loopback with
// kernel-chosen ports, RBAC on, an admin token user, a kubeconfig, and tabby's CRDs installed.
// Its state file records the processes so `down` stops them even after a crash of `up`.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoPath } from '../../common/paths.js';
import { isRunning, type ProcessRef, refFor, spawnDaemon, terminate } from '../../kernel/index.js';
import { LabError } from '../errors.js';
import { controlPlaneBinaries } from './binaries.js';
import { installCrds, readCrdDir } from './crds.js';
import { renderKubeconfig } from './kubeconfig.js';
import { freePorts } from './ports.js';

export const CONTROL_PLANE_DIR = process.env.TABBY_CONTROL_PLANE_DIR ?? '/run/tabby/control-plane';
export const DEFAULT_CRD_DIR = repoPath('deploy/crds');

export interface ControlPlaneState {
  version: 1;
  name: string;
  /** Data directory: etcd data, certificates, logs, kubeconfig. Removed by `down`. */
  dir: string;
  server: string;
  kubeconfig: string;
  /** Unix socket relaying to the API server, for agents inside lab node namespaces. */
  apiSocket: string;
  k8sVersion: string;
  etcdVersion: string;
  createdAt: string;
  processes: ProcessRef[];
}

export interface ControlPlaneOptions {
  name?: string;
  /** Directory of CRD manifests to install; default deploy/crds. */
  crdDir?: string;
  progress?: (msg: string) => void;
}

/** etcd, kube-apiserver and the API bridge. */
const DAEMON_COUNT = 3;
const BRIDGE_SCRIPT = repoPath('lab/control-plane/api-bridge.ts');

const stateFile = (name: string) => join(CONTROL_PLANE_DIR, `${name}.json`);

export function readControlPlane(name = 'default'): ControlPlaneState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(name), 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

const save = (s: ControlPlaneState) => writeFileSync(stateFile(s.name), JSON.stringify(s, null, 2));

/** Starts the control plane, or returns the running one of that name (idempotent). */
export async function controlPlaneUp(opts: ControlPlaneOptions = {}): Promise<ControlPlaneState> {
  const name = opts.name ?? 'default';
  const progress = opts.progress ?? (() => {});
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name))
    throw new LabError(`control plane name "${name}": lowercase letters, digits, dashes`);
  const existing = readControlPlane(name);
  if (existing) {
    if (existing.processes.length === DAEMON_COUNT && existing.processes.every(isRunning)) return existing;
    progress(`control plane "${name}" was left half-running; cleaning up first`);
    await controlPlaneDown(name);
  }
  const bins = controlPlaneBinaries();
  const dir = join(CONTROL_PLANE_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'pki'), { recursive: true, mode: 0o700 });
  const [etcdPort, peerPort, apiPort] = (await freePorts(3)) as [number, number, number];
  const server = `https://127.0.0.1:${apiPort}`;
  const state: ControlPlaneState = {
    version: 1,
    name,
    dir,
    server,
    kubeconfig: join(dir, 'kubeconfig'),
    apiSocket: join(dir, 'apiserver.sock'),
    k8sVersion: bins.k8sVersion,
    etcdVersion: bins.etcdVersion,
    createdAt: new Date().toISOString(),
    processes: [],
  };
  save(state);
  try {
    progress(`starting etcd ${bins.etcdVersion} on 127.0.0.1:${etcdPort}`);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    await startDaemon(
      state,
      'etcd',
      [
        bins.etcd,
        '--name',
        'tabby',
        '--data-dir',
        join(dir, 'etcd'),
        '--listen-client-urls',
        etcdUrl,
        '--advertise-client-urls',
        etcdUrl,
        '--listen-peer-urls',
        peerUrl,
        '--initial-advertise-peer-urls',
        peerUrl,
        '--initial-cluster',
        `tabby=${peerUrl}`,
        '--unsafe-no-fsync',
        '--log-level',
        'warn',
      ],
      () => probe(`${etcdUrl}/health`),
      30_000,
    );

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = join(dir, 'pki', 'sa.key');
    writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'pki', 'tokens.csv'), `${token},tabby-admin,tabby-admin,"system:masters"\n`, {
      mode: 0o600,
    });

    progress(`starting kube-apiserver ${bins.k8sVersion} on ${server}`);
    const caFile = join(dir, 'pki', 'apiserver.crt');
    await startDaemon(
      state,
      'kube-apiserver',
      [
        bins.kubeApiserver,
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        '--advertise-address=127.0.0.1',
        '--endpoint-reconciler-type=none',
        `--cert-dir=${join(dir, 'pki')}`,
        '--service-cluster-ip-range=10.96.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${saKey}`,
        `--service-account-signing-key-file=${saKey}`,
        `--token-auth-file=${join(dir, 'pki', 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        '--disable-admission-plugins=ServiceAccount',
      ],
      () => existsSync(caFile) && probe(`${server}/readyz`, readFileSync(caFile)),
      120_000,
    );
    await startDaemon(
      state,
      'api-bridge',
      [process.execPath, '--import', 'tsx', BRIDGE_SCRIPT, state.apiSocket, `127.0.0.1:${apiPort}`],
      () => existsSync(state.apiSocket),
      30_000,
    );
    writeFileSync(state.kubeconfig, renderKubeconfig({ server, caFile, token }), { mode: 0o600 });
    const crds = readCrdDir(opts.crdDir ?? DEFAULT_CRD_DIR);
    if (crds.length > 0) {
      progress(`installing ${crds.length} CRD(s)`);
      await installCrds(state.kubeconfig, crds);
    }
    return state;
  } catch (e) {
    await controlPlaneDown(name).catch(() => {});
    throw e;
  }
}

/** Stops the processes and removes the data directory. Idempotent. */
export async function controlPlaneDown(name = 'default'): Promise<boolean> {
  const state = readControlPlane(name);
  if (!state) return false;
  // The API server first, so it does not spin on a vanished etcd.
  await terminate([...state.processes].reverse(), 10_000);
  rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile(name), { force: true });
  return true;
}

/** Starts one daemon (recorded in the state file at once), then waits until `ready()` holds. */
async function startDaemon(
  state: ControlPlaneState,
  what: string,
  argv: string[],
  ready: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const log = join(state.dir, `${what}.log`);
  const ref = refFor(await spawnDaemon(argv, { logFile: log, cwd: repoPath('.') }), what);
  state.processes.push(ref);
  save(state);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    if (!isRunning(ref)) throw new LabError(`${what} exited at start; see ${log}`);
    await sleep(200);
  }
  throw new LabError(`${what} not ready after ${timeoutMs / 1000} s; see ${log}`);
}

/** GET url; true on HTTP 200. */
function probe(url: string, ca?: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}
