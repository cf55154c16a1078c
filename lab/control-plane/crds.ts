// Installs CustomResourceDefinitions (create, or replace when present) and waits until the API
// server serves them (condition Established).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { LabError } from '../errors.js';

/** All CRD documents in the YAML files of `dir` (sorted by file name). */
export function readCrdDir(dir: string): V1CustomResourceDefinition[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch {
    return [];
  }
  const crds: V1CustomResourceDefinition[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new LabError(`${path}: ${doc.errors[0]?.message}`);
    }
    // client-node's loader maps YAML keys to its model (x-kubernetes-validations →
    // x_kubernetes_validations); plain parsed objects would lose every such key on the wire.
    for (const obj of loadAllYaml(text) as (V1CustomResourceDefinition | null)[]) {
      if (!obj) continue;
      if (obj.kind !== 'CustomResourceDefinition') {
        throw new LabError(`${path}: expected kind CustomResourceDefinition, found ${String(obj.kind)}`);
      }
      crds.push(obj);
    }
  }
  return crds;
}

const statusCode = (e: unknown): number | undefined => (e as { code?: number }).code;

export async function installCrds(
  kubeconfigPath: string,
  crds: V1CustomResourceDefinition[],
  timeoutMs = 30_000,
): Promise<void> {
  if (crds.length === 0) return;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const body of crds) {
    const name = body.metadata?.name;
    if (!name) throw new LabError('CRD without metadata.name');
    try {
      await api.createCustomResourceDefinition({ body });
    } catch (e) {
      if (statusCode(e) !== 409) throw e;
      const current = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } },
      });
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const body of crds) {
    const name = body.metadata?.name as string;
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline)
        throw new LabError(`CRD ${name} not Established after ${timeoutMs / 1000} s`);
      await sleep(100);
    }
  }
  // Established comes before the resource's storage is ready ("storage is (re)initializing",
  // HTTP 429): wait until each resource can be listed.
  const objects = kc.makeApiClient(CustomObjectsApi);
  for (const body of crds) {
    const { group, names, versions, scope } = body.spec;
    const version = versions.find((v) => v.storage)?.name ?? versions[0]?.name ?? 'v1';
    for (;;) {
      try {
        if (scope === 'Namespaced') {
          await objects.listCustomObjectForAllNamespaces({ group, version, plural: names.plural, limit: 1 });
        } else {
          await objects.listClusterCustomObject({ group, version, plural: names.plural, limit: 1 });
        }
        break;
      } catch (e) {
        if (Date.now() > deadline) {
          throw new LabError(
            `CRD ${body.metadata?.name}: objects not listable after ${timeoutMs / 1000} s: ${String(e)}`,
          );
        }
        await sleep(100);
      }
    }
  }
}
