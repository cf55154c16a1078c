// Where `npm run setup` put kube-apiserver, kubectl and etcd: scripts/versions.sh is the one
// source of the pinned versions and the cache location, for the shell scripts and for us.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../../common/paths.js';
import { LabError } from '../errors.js';

/** Reads `KEY="${KEY:-default}"` lines; the environment overrides, as in the shell. */
export function readVersions(
  text = readFileSync(repoPath('scripts/versions.sh'), 'utf8'),
  env = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z0-9_]+)="\$\{\1:-([^}]*)\}"$/gm)) {
    const [, key = '', def = ''] = m;
    out[key] = env[key] ?? def;
  }
  out.TABBY_CP_BIN_DIR =
    env.TABBY_CP_BIN_DIR ??
    join(
      out.TABBY_CACHE_DIR ?? '/var/cache/tabby',
      'control-plane',
      `k8s-${out.K8S_VERSION}-etcd-${out.ETCD_VERSION}`,
    );
  return out;
}

export interface ControlPlaneBinaries {
  etcd: string;
  kubeApiserver: string;
  kubectl: string;
  k8sVersion: string;
  etcdVersion: string;
}

export function controlPlaneBinaries(): ControlPlaneBinaries {
  const v = readVersions();
  const dir = v.TABBY_CP_BIN_DIR as string;
  const bins = {
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubectl: join(dir, 'kubectl'),
    k8sVersion: v.K8S_VERSION ?? '',
    etcdVersion: v.ETCD_VERSION ?? '',
  };
  for (const p of [bins.etcd, bins.kubeApiserver, bins.kubectl]) {
    if (!existsSync(p))
      throw new LabError(`${p} is missing: run \`npm run setup\` to build the local control plane`);
  }
  return bins;
}
