// One collection of cluster-scoped custom objects (group tabby.dev, version v1alpha1) through
// the API server, with the ResourceStore semantics of datastore.ts: `update` sends the object's
// resourceVersion (the API server's compare-and-swap), `delete` sends its preconditions.
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type {
  ListOptions,
  ListResult,
  NewResource,
  Preconditions,
  ResourceStore,
  Watch,
  WatchEvent,
  WatchOptions,
} from './datastore.js';
import { DatastoreError, isDatastoreError } from './errors.js';
import { mapErrors } from './kubernetes-errors.js';
import { type KubeList, type KubeObject, labelSelector, toBody, toResource } from './kubernetes-objects.js';
import { openWatch } from './kubernetes-watch.js';
import { GROUP, type Resource, VERSION } from './resources.js';

export interface KubernetesStoreOptions {
  /** Recorded in managedFields as the writer. */
  fieldManager: string;
}

export class KubernetesStore<S> implements ResourceStore<S> {
  private readonly ref: { group: string; version: string; plural: string };

  constructor(
    readonly kind: string,
    plural: string,
    private readonly api: CustomObjectsApi,
    private readonly kc: KubeConfig,
    private readonly watches: Set<Watch>,
    private readonly options: KubernetesStoreOptions,
  ) {
    this.ref = { group: GROUP, version: VERSION, plural };
  }

  async get(name: string): Promise<Resource<S> | undefined> {
    try {
      const raw = await mapErrors('get', `${this.kind} ${name}`, () =>
        this.api.getClusterCustomObject({ ...this.ref, name }),
      );
      return toResource<S>(raw as KubeObject);
    } catch (e) {
      if (isDatastoreError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  async list(labels?: Record<string, string>, options: ListOptions = {}): Promise<ListResult<S>> {
    const raw = await mapErrors('list', this.kind, async () => {
      return (await this.api.listClusterCustomObject({
        ...this.ref,
        labelSelector: labelSelector(labels),
        ...(options.cached ? { resourceVersion: '0' } : {}),
      })) as KubeList;
    });
    return {
      items: (raw.items ?? []).map((o) => toResource<S>(o)),
      resourceVersion: String(raw.metadata?.resourceVersion ?? ''),
    };
  }

  async create(obj: NewResource<S>): Promise<Resource<S>> {
    const raw = await mapErrors('create', `${this.kind} ${obj.metadata.name}`, () =>
      this.api.createClusterCustomObject({
        ...this.ref,
        body: toBody(this.kind, obj, 'create'),
        ...this.writeOptions,
      }),
    );
    return toResource<S>(raw as KubeObject);
  }

  async update(obj: Resource<S>): Promise<Resource<S>> {
    const name = obj.metadata.name;
    // Without a resourceVersion the API server would overwrite unconditionally: refuse.
    if (!obj.metadata.resourceVersion) {
      throw new DatastoreError('Invalid', `update of ${this.kind} ${name} without resourceVersion`);
    }
    const raw = await mapErrors('update', `${this.kind} ${name}`, () =>
      this.api.replaceClusterCustomObject({
        ...this.ref,
        name,
        body: toBody(this.kind, obj, 'update'),
        ...this.writeOptions,
      }),
    );
    return toResource<S>(raw as KubeObject);
  }

  async delete(name: string, preconditions: Preconditions = {}): Promise<void> {
    const pre: Preconditions = {};
    if (preconditions.resourceVersion !== undefined) pre.resourceVersion = preconditions.resourceVersion;
    if (preconditions.uid !== undefined) pre.uid = preconditions.uid;
    await mapErrors('delete', `${this.kind} ${name}`, () =>
      this.api.deleteClusterCustomObject({ ...this.ref, name, body: { preconditions: pre } }),
    );
  }

  watch(onEvent: (event: WatchEvent<S>) => void, options: WatchOptions = {}): Promise<Watch> {
    const target = {
      kc: this.kc,
      path: `/apis/${GROUP}/${VERSION}/${this.ref.plural}`,
      kind: this.kind,
      currentVersion: () => this.currentVersion(),
      convert: (raw: KubeObject) => toResource<S>(raw),
    };
    return openWatch(target, onEvent, options, this.watches);
  }

  /** The collection's resourceVersion now (a list of at most one object). */
  private async currentVersion(): Promise<string> {
    const raw = await mapErrors('watch', this.kind, async () => {
      return (await this.api.listClusterCustomObject({ ...this.ref, limit: 1 })) as KubeList;
    });
    return String(raw.metadata?.resourceVersion ?? '');
  }

  /** Unknown fields are refused, not silently pruned: they mean the CRD and resources.ts differ. */
  private get writeOptions() {
    return { fieldManager: this.options.fieldManager, fieldValidation: 'Strict' };
  }
}
