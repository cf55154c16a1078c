// In-memory Datastore with the Kubernetes store's semantics: one revision counter for all
// objects, conditional writes (AlreadyExists / Conflict / NotFound), label-filtered lists, and
// watches that replay from a list's resourceVersion. Objects are copied in and out, so callers
// can never mutate stored state. For unit tests and benchmarks without an API server.
import { randomUUID } from 'node:crypto';
import {
  collections,
  type Datastore,
  type ListResult,
  type NewResource,
  type Preconditions,
  type ResourceStore,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './datastore.js';
import { DatastoreError } from './errors.js';
import { MemoryNodes } from './memory-nodes.js';
import { memoryWatcher } from './memory-watch.js';
import { type CollectionName, KINDS, type NodeInfo, type PodInfo, type Resource } from './resources.js';

export type WriteOp = 'create' | 'update' | 'delete';

/** Called before each write is applied; may throw (fault injection) or write itself (races). */
export type BeforeWrite = (op: WriteOp, kind: string, name: string) => void | Promise<void>;

interface Shared {
  revision: number;
  beforeWrite?: BeforeWrite;
}

const clone = <T>(v: T): T => structuredClone(v);
const matches = (labels: Record<string, string> | undefined, want?: Record<string, string>) =>
  !want || Object.entries(want).every(([k, v]) => labels?.[k] === v);

const HISTORY = 10_000;

class MemoryStore<S> implements ResourceStore<S> {
  private readonly objects = new Map<string, Resource<S>>();
  private readonly history: { revision: number; event: WatchEvent<S> }[] = [];
  private readonly watchers = new Set<(e: WatchEvent<S>) => void>();

  constructor(
    readonly kind: string,
    private readonly shared: Shared,
  ) {}

  async get(name: string): Promise<Resource<S> | undefined> {
    const obj = this.objects.get(name);
    return obj && clone(obj);
  }

  async list(labels?: Record<string, string>): Promise<ListResult<S>> {
    const items = [...this.objects.values()].filter((o) => matches(o.metadata.labels, labels));
    items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    return { items: clone(items), resourceVersion: String(this.shared.revision) };
  }

  async create(obj: NewResource<S>): Promise<Resource<S>> {
    const name = obj.metadata.name;
    await this.shared.beforeWrite?.('create', this.kind, name);
    if (this.objects.has(name)) {
      throw new DatastoreError('AlreadyExists', `${this.kind} ${name} already exists`, 409);
    }
    const stored: Resource<S> = {
      metadata: {
        ...clone(obj.metadata),
        uid: randomUUID(),
        resourceVersion: this.bump(),
        creationTimestamp: new Date().toISOString(),
      },
      spec: clone(obj.spec),
    };
    this.objects.set(name, stored);
    this.emit('ADDED', stored);
    return clone(stored);
  }

  async update(obj: Resource<S>): Promise<Resource<S>> {
    const name = obj.metadata.name;
    if (!obj.metadata.resourceVersion) {
      throw new DatastoreError('Invalid', `update of ${this.kind} ${name} without resourceVersion`);
    }
    await this.shared.beforeWrite?.('update', this.kind, name);
    const current = this.objects.get(name);
    if (!current) throw new DatastoreError('NotFound', `${this.kind} ${name} not found`, 404);
    if (current.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      throw new DatastoreError(
        'Conflict',
        `${this.kind} ${name} was modified (have ${obj.metadata.resourceVersion}, stored ${current.metadata.resourceVersion})`,
        409,
      );
    }
    const stored: Resource<S> = {
      metadata: {
        ...clone(obj.metadata),
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        resourceVersion: this.bump(),
      },
      spec: clone(obj.spec),
    };
    this.objects.set(name, stored);
    this.emit('MODIFIED', stored);
    return clone(stored);
  }

  async delete(name: string, pre: Preconditions = {}): Promise<void> {
    await this.shared.beforeWrite?.('delete', this.kind, name);
    const current = this.objects.get(name);
    if (!current) throw new DatastoreError('NotFound', `${this.kind} ${name} not found`, 404);
    const stale =
      (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) ||
      (pre.uid !== undefined && pre.uid !== current.metadata.uid);
    if (stale) throw new DatastoreError('Conflict', `${this.kind} ${name}: precondition failed`, 409);
    this.objects.delete(name);
    this.emit('DELETED', { ...current, metadata: { ...current.metadata, resourceVersion: this.bump() } });
  }

  async watch(onEvent: (e: WatchEvent<S>) => void, options: WatchOptions = {}): Promise<Watch> {
    const { watch, deliver, end } = memoryWatcher(
      this.watchers,
      (e: WatchEvent<S>) => onEvent(clone(e)),
      (e) => matches(e.object.metadata.labels, options.labels),
    );
    const from = options.resourceVersion === undefined ? undefined : Number(options.resourceVersion);
    if (from !== undefined) {
      const oldest = this.history[0]?.revision;
      if (oldest !== undefined && from < oldest - 1 && this.history.length >= HISTORY) {
        // Like the API server: the watch starts, then ends at once with 410 Gone.
        queueMicrotask(() =>
          end(new DatastoreError('Conflict', `resourceVersion ${from} is too old to watch from`, 410)),
        );
        return watch;
      }
      const backlog = this.history.filter((h) => h.revision > from).map((h) => h.event);
      queueMicrotask(() => {
        for (const e of backlog) deliver(e);
      });
    }
    return watch;
  }

  private bump(): string {
    this.shared.revision += 1;
    return String(this.shared.revision);
  }

  private emit(type: WatchEvent<S>['type'], object: Resource<S>): void {
    const event = { type, object: clone(object) };
    this.history.push({ revision: Number(object.metadata.resourceVersion), event });
    if (this.history.length > HISTORY) this.history.shift();
    for (const w of this.watchers) w(event);
  }
}

export interface MemoryDatastore extends Datastore {
  /** Creates, relabels (annotations and addresses kept) or (with undefined) removes a node. */
  setNode(name: string, labels: Record<string, string> | undefined): void;
  /** Creates or replaces a node with all it carries (absent fields: empty), or removes it. */
  setNodeInfo(name: string, info: Partial<Omit<NodeInfo, 'name'>> | undefined): void;
  /** Creates or replaces (undefined: removes) a Secret, its data given decoded. */
  setSecret(namespace: string, name: string, data: Record<string, string> | undefined): void;
  /** Creates (with annotations) or removes a Pod, for annotatePod. */
  setPod(
    namespace: string,
    name: string,
    pod: { uid: string; node?: string; annotations?: Record<string, string> } | undefined,
  ): void;
  /** A Pod's annotations, or undefined when there is no such Pod. */
  podAnnotations(namespace: string, name: string): Record<string, string> | undefined;
  /** Installs a hook run before every write (fault injection, forced races). */
  setBeforeWrite(hook: BeforeWrite | undefined): void;
}

/** A Datastore in memory; `nodes` seeds Nodes with their labels. */
export function memoryDatastore(nodes: Record<string, Record<string, string>> = {}): MemoryDatastore {
  const shared: Shared = { revision: 0 };
  const nodeTable = new MemoryNodes();
  const setNodeInfo = (name: string, info: Partial<Omit<NodeInfo, 'name'>> | undefined) =>
    nodeTable.set(
      name,
      info && {
        labels: info.labels ?? {},
        annotations: info.annotations ?? {},
        addresses: info.addresses ?? [],
      },
    );
  for (const [name, labels] of Object.entries(nodes)) setNodeInfo(name, { labels });
  const store = <S>(k: CollectionName) => new MemoryStore<S>(KINDS[k].kind, shared);
  const pods = new Map<string, PodInfo>();
  const secrets = new Map<string, Record<string, string>>();
  return {
    ...collections(store),
    nodeLabels: async (name) => nodeTable.get(name)?.labels,
    setNode: (name, labels) => {
      const current = nodeTable.get(name);
      setNodeInfo(name, labels && { ...current, labels });
    },
    setNodeInfo,
    listNodeInfos: async () => nodeTable.list(),
    watchNodes: async (onEvent) => nodeTable.watch(onEvent),
    annotateNode: async (name, annotations) => nodeTable.annotate(name, annotations),
    setSecret: (namespace, name, data) => {
      if (data) secrets.set(`${namespace}/${name}`, { ...data });
      else secrets.delete(`${namespace}/${name}`);
    },
    readSecretKey: async (namespace, name, key) => secrets.get(`${namespace}/${name}`)?.[key],
    listPods: async () => [...pods.values()].map((p) => ({ ...p, annotations: { ...p.annotations } })),
    getPod: async (namespace, name) => {
      const p = pods.get(`${namespace}/${name}`);
      return p && { ...p, annotations: { ...p.annotations } };
    },
    listNodes: async () => nodeTable.names(),
    annotatePod: async (namespace, name, annotations, uid) => {
      const pod = pods.get(`${namespace}/${name}`);
      if (!pod || (uid && pod.uid !== uid)) return false;
      for (const [k, v] of Object.entries(annotations)) {
        if (v === null) delete pod.annotations[k];
        else pod.annotations[k] = v;
      }
      return true;
    },
    setPod: (namespace, name, pod) => {
      if (pod) {
        const info = { namespace, name, uid: pod.uid, node: pod.node, annotations: { ...pod.annotations } };
        pods.set(`${namespace}/${name}`, info);
      } else pods.delete(`${namespace}/${name}`);
    },
    podAnnotations: (namespace, name) => {
      const pod = pods.get(`${namespace}/${name}`);
      return pod && { ...pod.annotations };
    },
    setBeforeWrite: (hook) => {
      shared.beforeWrite = hook;
    },
    close: async () => {},
  };
}
