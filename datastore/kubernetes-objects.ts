// Conversion between tabby's plain `Resource<S>` and the custom objects the API server stores:
// outgoing objects get apiVersion/kind, incoming ones lose everything but the fields ObjectMeta
// names (no managedFields, generation, apiVersion or kind).
import type { NewResource } from './datastore.js';
import { API_VERSION, type NodeInfo, type ObjectMeta, type Resource } from './resources.js';

/** A custom object as the API server sends it (only the fields we read). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Partial<ObjectMeta> & Record<string, unknown>;
  spec?: unknown;
}

/** The list answer of a custom-object collection. */
export interface KubeList {
  items?: KubeObject[];
  metadata?: { resourceVersion?: string };
}

const copyMap = (m: unknown): Record<string, string> | undefined =>
  m && typeof m === 'object' && Object.keys(m).length > 0 ? { ...(m as Record<string, string>) } : undefined;

export function toResource<S>(raw: KubeObject): Resource<S> {
  const m = raw.metadata ?? {};
  const metadata: ObjectMeta = { name: String(m.name ?? '') };
  if (m.resourceVersion !== undefined) metadata.resourceVersion = String(m.resourceVersion);
  if (m.uid !== undefined) metadata.uid = String(m.uid);
  const labels = copyMap(m.labels);
  if (labels) metadata.labels = labels;
  const annotations = copyMap(m.annotations);
  if (annotations) metadata.annotations = annotations;
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = String(m.creationTimestamp);
  return { metadata, spec: (raw.spec ?? {}) as S };
}

/**
 * The body of a create (name, labels and annotations only: store-assigned fields are dropped) or
 * of an update (also resourceVersion and, when known, uid: the API server refuses an update whose
 * uid names an earlier object of the same name).
 */
export function toBody<S>(
  kind: string,
  obj: NewResource<S> | Resource<S>,
  op: 'create' | 'update',
): KubeObject {
  const m = obj.metadata as ObjectMeta;
  const metadata: Record<string, unknown> = { name: m.name };
  if (op === 'update') {
    metadata.resourceVersion = m.resourceVersion;
    if (m.uid !== undefined) metadata.uid = m.uid;
  }
  if (m.labels && Object.keys(m.labels).length > 0) metadata.labels = m.labels;
  if (m.annotations && Object.keys(m.annotations).length > 0) metadata.annotations = m.annotations;
  return { apiVersion: API_VERSION, kind, metadata, spec: obj.spec };
}

/** Equality label selector for `labels` ("a=1,b=2"); undefined for none. */
export function labelSelector(labels?: Record<string, string>): string | undefined {
  const parts = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(',') : undefined;
}

/** A Node as the API server sends it (a client model or a watch event's JSON: the same fields). */
export interface KubeNode {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { addresses?: { type?: string; address?: string }[] };
}

export function toNodeInfo(raw: KubeNode): NodeInfo {
  const m = raw.metadata ?? {};
  return {
    name: String(m.name ?? ''),
    labels: { ...(m.labels ?? {}) },
    annotations: { ...(m.annotations ?? {}) },
    addresses: (raw.status?.addresses ?? [])
      .filter((a) => a.address)
      .map((a) => ({ type: String(a.type ?? ''), address: String(a.address) })),
  };
}
