// A small CRI (runtime.v1.RuntimeService, plus ImageStatus) client: what a kubelet does to a pod sandbox, driven
// over containerd's socket with @grpc/grpc-js and the real api.proto from k8s.io/cri-api
// (cached by scripts/build-cnitool.sh). Every call has a deadline.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { criProtoPath } from './paths.js';

export class CriError extends Error {
  readonly code = 'TABBY_CRI';
  constructor(
    readonly method: string,
    /** gRPC status code (grpc.status), e.g. 4 DEADLINE_EXCEEDED, 14 UNAVAILABLE. */
    readonly grpcCode: number,
    readonly details: string,
  ) {
    super(`CRI ${method}: ${grpc.status[grpcCode] ?? grpcCode}: ${details}`);
    this.name = 'CriError';
  }
}

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface SandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface RuntimeVersion {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface SandboxSummary {
  id: string;
  metadata: SandboxMetadata;
  state: SandboxState;
  /** Nanoseconds since the epoch, as a decimal string (int64). */
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface SandboxStatus extends SandboxSummary {
  /** The pod IP ('' until the network is set up), then the additional ones. */
  ip: string;
  additionalIps: string[];
  /** verbose only: containerd's `info` JSON (runtimeSpec, pid, netns path...). */
  info: Record<string, string>;
}

export interface RunPodSandboxOptions {
  name: string;
  namespace: string;
  uid: string;
  attempt?: number;
  hostname?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Linux cgroup parent; '' lets the runtime choose. */
  cgroupParent?: string;
  timeoutMs?: number;
}

export interface CriClient {
  version(): Promise<RuntimeVersion>;
  /** RuntimeReady / NetworkReady conditions. */
  status(): Promise<RuntimeCondition[]>;
  runPodSandbox(opts: RunPodSandboxOptions): Promise<string>;
  podSandboxStatus(id: string, opts?: { verbose?: boolean }): Promise<SandboxStatus>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  listPodSandbox(): Promise<SandboxSummary[]>;
  /** ImageService.ImageStatus: is the image in CRI's store? */
  imageExists(ref: string): Promise<boolean>;
  close(): void;
}

export interface CriClientOptions {
  /** containerd's socket path. */
  socket: string;
  /** api.proto; default the cached one (npm run setup). */
  protoPath?: string;
  /** Deadline of calls that do not name their own (default 10 s). */
  timeoutMs?: number;
}

// Shapes as @grpc/proto-loader decodes them (longs and enums as strings, defaults filled in).
interface WireMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}
interface WireSandbox {
  id: string;
  metadata: WireMetadata | null;
  state: SandboxState;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface WireSandboxStatus extends WireSandbox {
  network: { ip: string; additionalIps: { ip: string }[] } | null;
}

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

interface CriServices {
  runtime: grpc.ServiceDefinition;
  image: grpc.ServiceDefinition;
}

const loaded = new Map<string, CriServices>();

/** Parses api.proto once per path (about 100 ms) and returns the two services' method tables. */
function criServices(protoPath: string): CriServices {
  let svcs = loaded.get(protoPath);
  if (!svcs) {
    const def = protoLoader.loadSync(protoPath, LOADER_OPTIONS);
    const runtime = def['runtime.v1.RuntimeService'];
    const image = def['runtime.v1.ImageService'];
    if (!runtime || !('RunPodSandbox' in runtime) || !image || !('ImageStatus' in image))
      throw new Error(`${protoPath}: no runtime.v1.RuntimeService / ImageService`);
    svcs = { runtime: runtime as grpc.ServiceDefinition, image: image as grpc.ServiceDefinition };
    loaded.set(protoPath, svcs);
  }
  return svcs;
}

const metadataOf = (m: WireMetadata | null): SandboxMetadata => ({
  name: m?.name ?? '',
  uid: m?.uid ?? '',
  namespace: m?.namespace ?? '',
  attempt: m?.attempt ?? 0,
});

const summaryOf = (s: WireSandbox): SandboxSummary => ({
  id: s.id,
  metadata: metadataOf(s.metadata),
  state: s.state,
  createdAt: s.createdAt,
  labels: s.labels,
  annotations: s.annotations,
});

export function criClient(opts: CriClientOptions): CriClient {
  const svcs = criServices(opts.protoPath ?? criProtoPath());
  const client = new grpc.Client(`unix://${opts.socket}`, grpc.credentials.createInsecure());
  const defaultTimeout = opts.timeoutMs ?? 10_000;

  function call<Res>(
    method: string,
    request: object,
    timeoutMs = defaultTimeout,
    svc: grpc.ServiceDefinition = svcs.runtime,
  ): Promise<Res> {
    const m = svc[method];
    if (!m) return Promise.reject(new Error(`CRI: no method ${method}`));
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (err) reject(new CriError(method, err.code, err.details || err.message));
          else resolve(res as Res);
        },
      );
    });
  }

  return {
    version: () => call<RuntimeVersion>('Version', { version: 'v1' }),

    async status() {
      const r = await call<{ status: { conditions: RuntimeCondition[] } | null }>('Status', {});
      return r.status?.conditions ?? [];
    },

    async runPodSandbox(o) {
      const config = {
        metadata: { name: o.name, uid: o.uid, namespace: o.namespace, attempt: o.attempt ?? 0 },
        hostname: o.hostname ?? o.name,
        labels: o.labels ?? {},
        annotations: o.annotations ?? {},
        linux: { cgroupParent: o.cgroupParent ?? '' },
      };
      const r = await call<{ podSandboxId: string }>('RunPodSandbox', { config }, o.timeoutMs ?? 120_000);
      return r.podSandboxId;
    },

    async podSandboxStatus(id, o = {}) {
      const r = await call<{ status: WireSandboxStatus | null; info: Record<string, string> }>(
        'PodSandboxStatus',
        { podSandboxId: id, verbose: o.verbose ?? false },
      );
      if (!r.status) throw new CriError('PodSandboxStatus', grpc.status.NOT_FOUND, `no status for ${id}`);
      return {
        ...summaryOf(r.status),
        ip: r.status.network?.ip ?? '',
        additionalIps: (r.status.network?.additionalIps ?? []).map((p) => p.ip),
        info: r.info,
      };
    },

    async stopPodSandbox(id) {
      await call('StopPodSandbox', { podSandboxId: id }, 120_000);
    },

    async removePodSandbox(id) {
      await call('RemovePodSandbox', { podSandboxId: id }, 60_000);
    },

    async listPodSandbox() {
      const r = await call<{ items: WireSandbox[] }>('ListPodSandbox', {});
      return r.items.map(summaryOf);
    },

    async imageExists(ref) {
      const r = await call<{ image: { id: string } | null }>(
        'ImageStatus',
        { image: { image: ref } },
        undefined,
        svcs.image,
      );
      return r.image !== null && r.image.id !== '';
    },

    close: () => client.close(),
  };
}
