// The Datastore on a Kubernetes API server: tabby's CRDs (deploy/crds) through CustomObjectsApi,
// Nodes, Pods and Secrets through CoreV1Api. Errors are DatastoreErrors (see kubernetes-errors.ts).
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { collections, type Datastore, type ResourceStore, type Watch } from './datastore.js';
import { DatastoreError } from './errors.js';
import { keepAliveClients } from './kubernetes-client.js';
import { mapErrors, toDatastoreError } from './kubernetes-errors.js';
import { type KubeNode, toNodeInfo } from './kubernetes-objects.js';
import { KubernetesStore } from './kubernetes-store.js';
import { openWatch } from './kubernetes-watch.js';
import { type CollectionName, KINDS, type NodeInfo, type PodInfo } from './resources.js';

export interface KubernetesDatastoreOptions {
  /** Name recorded as the writer in managedFields; default "tabby". */
  fieldManager?: string;
}

/** A Datastore on the cluster of `kubeconfig` (a loaded KubeConfig or the path of a kubeconfig file). */
export function kubernetesDatastore(
  kubeconfig: KubeConfig | string,
  options: KubernetesDatastoreOptions = {},
): Datastore {
  let kc: KubeConfig;
  if (typeof kubeconfig === 'string') {
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
  } else {
    kc = kubeconfig;
  }
  const clients = keepAliveClients(kc);
  const custom = clients.make(CustomObjectsApi);
  const core = clients.make(CoreV1Api);
  const watches = new Set<Watch>();
  const storeOptions = { fieldManager: options.fieldManager ?? 'tabby' };
  const store = <S>(c: CollectionName): ResourceStore<S> =>
    new KubernetesStore<S>(KINDS[c].kind, KINDS[c].plural, custom, kc, watches, storeOptions);

  return {
    ...collections(store),
    nodeLabels: async (name) => {
      try {
        const node = await core.readNode({ name });
        return { ...(node.metadata?.labels ?? {}) };
      } catch (e) {
        const err = toDatastoreError(e, 'get', `Node ${name}`);
        if (err instanceof DatastoreError && err.reason === 'NotFound') return undefined;
        throw err;
      }
    },
    listPods: async () => {
      try {
        const out: PodInfo[] = [];
        let _continue: string | undefined;
        do {
          const page = await core.listPodForAllNamespaces({ limit: 500, _continue });
          out.push(...page.items.map(podInfo));
          _continue = page.metadata?._continue || undefined;
        } while (_continue);
        return out;
      } catch (e) {
        throw toDatastoreError(e, 'list', 'Pods');
      }
    },
    getPod: async (namespace, name) => {
      try {
        return podInfo(await core.readNamespacedPod({ namespace, name }));
      } catch (e) {
        const err = toDatastoreError(e, 'get', `Pod ${namespace}/${name}`);
        if (err instanceof DatastoreError && err.reason === 'NotFound') return undefined;
        throw err;
      }
    },
    listNodes: async () => {
      try {
        return (await core.listNode()).items.map((n) => n.metadata?.name ?? '').filter(Boolean);
      } catch (e) {
        throw toDatastoreError(e, 'list', 'Nodes');
      }
    },
    listNodeInfos: () =>
      mapErrors('list', 'Nodes', async () => {
        const out: NodeInfo[] = [];
        let _continue: string | undefined;
        do {
          const page = await core.listNode({ limit: 500, _continue });
          out.push(...page.items.map((n) => toNodeInfo(n as KubeNode)));
          _continue = page.metadata?._continue || undefined;
        } while (_continue);
        return out;
      }),
    watchNodes: (onEvent) => {
      const target = {
        kc,
        path: '/api/v1/nodes',
        kind: 'Node',
        currentVersion: () =>
          mapErrors('watch', 'Nodes', async () =>
            String((await core.listNode({ limit: 1 })).metadata?.resourceVersion ?? ''),
          ),
        convert: (raw: unknown) => toNodeInfo(raw as KubeNode),
      };
      return openWatch(target, onEvent, {}, watches);
    },
    annotateNode: async (name, annotations) => {
      try {
        await core.patchNode(
          { name, body: { metadata: { annotations } }, fieldManager: storeOptions.fieldManager },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return true;
      } catch (e) {
        const err = toDatastoreError(e, 'patch', `Node ${name}`);
        if (err instanceof DatastoreError && err.reason === 'NotFound') return false;
        throw err;
      }
    },
    readSecretKey: async (namespace, name, key) => {
      try {
        const secret = await core.readNamespacedSecret({ namespace, name });
        const value = secret.data?.[key];
        return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
      } catch (e) {
        const err = toDatastoreError(e, 'get', `Secret ${namespace}/${name}`);
        if (err instanceof DatastoreError && err.reason === 'NotFound') return undefined;
        throw err;
      }
    },
    annotatePod: async (namespace, name, annotations, uid) => {
      const metadata: { annotations: typeof annotations; uid?: string } = { annotations };
      // A uid in a merge patch is a precondition: the API server refuses another incarnation.
      if (uid) metadata.uid = uid;
      try {
        await core.patchNamespacedPod(
          { namespace, name, body: { metadata }, fieldManager: storeOptions.fieldManager },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return true;
      } catch (e) {
        const err = toDatastoreError(e, 'patch', `Pod ${namespace}/${name}`);
        if (err instanceof DatastoreError && (err.reason === 'NotFound' || err.reason === 'Conflict'))
          return false;
        throw err;
      }
    },
    close: async () => {
      await Promise.all([...watches].map((w) => w.stop()));
      clients.close();
    },
  };
}

const podInfo = (p: V1Pod): PodInfo => ({
  namespace: p.metadata?.namespace ?? '',
  name: p.metadata?.name ?? '',
  uid: p.metadata?.uid ?? '',
  node: p.spec?.nodeName || undefined,
  annotations: { ...(p.metadata?.annotations ?? {}) },
});
