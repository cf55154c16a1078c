// GC's list of attachments still valid on the node. The key changed after spec 1.1.0 was tagged
// (`cni.dev/attachments` → `cni.dev/valid-attachments`) and libcni 1.3 sends both, so both are
// read and merged. Neither present (cnitool gc) means none is valid: the agent releases every
// attachment of this network on the node.
import { invalidConfig } from './errors.js';
import { isObject, type JsonObject, optionalArray, requiredString } from './json-fields.js';
import { ifnameProblem, NAME_PATTERN } from './names.js';

export const GC_ATTACHMENT_KEYS = ['cni.dev/valid-attachments', 'cni.dev/attachments'] as const;

export interface Attachment {
  containerId: string;
  ifname: string;
}

function parseAttachment(v: unknown, path: string): Attachment {
  if (!isObject(v)) throw invalidConfig(`${path}: must be an object`);
  const containerId = requiredString(v, 'containerID', `${path}.containerID`);
  if (!NAME_PATTERN.test(containerId)) {
    throw invalidConfig(`${path}.containerID: "${containerId}" must match ${NAME_PATTERN.source}`);
  }
  const ifname = requiredString(v, 'ifname', `${path}.ifname`);
  const problem = ifnameProblem(ifname);
  if (problem) throw invalidConfig(`${path}.ifname: "${ifname}" ${problem}`);
  return { containerId, ifname };
}

/** The union of both keys' lists, without duplicates, in first-seen order. */
export function parseValidAttachments(doc: JsonObject): Attachment[] {
  const seen = new Map<string, Attachment>();
  for (const key of GC_ATTACHMENT_KEYS) {
    const list = optionalArray(doc, key, key) ?? [];
    list.forEach((item, i) => {
      const a = parseAttachment(item, `${key}[${i}]`);
      const id = `${a.containerId}\u0000${a.ifname}`;
      if (!seen.has(id)) seen.set(id, a);
    });
  }
  return [...seen.values()];
}
