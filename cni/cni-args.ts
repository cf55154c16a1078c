// CNI_ARGS (`K=V;K=V`, any order) → the pod's Kubernetes identity. As the reference plugins: a
// key tabby does not know is an unsupported-field error (code 2) naming it, unless
// IgnoreUnknown=1 (or true) is among the pairs; a pair that is not `K=V` is an invalid-env error.
import { CniError, invalidEnv } from './errors.js';
import { CNI_ERROR, type PodIdentity } from './protocol.js';

const IDENTITY_KEYS = new Map<string, keyof PodIdentity>([
  ['K8S_POD_NAMESPACE', 'namespace'],
  ['K8S_POD_NAME', 'name'],
  ['K8S_POD_UID', 'uid'],
  ['K8S_POD_INFRA_CONTAINER_ID', 'infraContainerId'],
]);
const IGNORE_UNKNOWN = 'IgnoreUnknown';

function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw invalidEnv(`CNI_ARGS: ${key}="${value}" must be 1, true, 0 or false`);
}

/** The identity CNI_ARGS carries; an empty object when it carries none. */
export function parseCniArgs(args: string): PodIdentity {
  const pod: PodIdentity = {};
  const unknown: string[] = [];
  let ignoreUnknown = false;
  for (const pair of args.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalidEnv(`CNI_ARGS: "${pair}" is not a KEY=VALUE pair`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const field = IDENTITY_KEYS.get(key);
    if (field) {
      if (value !== '') pod[field] = value;
    } else if (key === IGNORE_UNKNOWN) {
      ignoreUnknown = parseBool(key, value);
    } else {
      unknown.push(pair);
    }
  }
  if (unknown.length > 0 && !ignoreUnknown) {
    const keys = unknown.map((p) => `"${p}"`).join(', ');
    throw new CniError(
      CNI_ERROR.unsupportedField,
      `CNI_ARGS: unknown args ${keys} (set IgnoreUnknown=1 to allow)`,
    );
  }
  return pod;
}
