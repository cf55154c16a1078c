// VERSION, answered by the plugin alone: no agent, no CNI_CONTAINERID/NETNS/IFNAME needed (libcni
// sends dummies). Echoes the input's cniVersion as the spec asks; 1.1.0 when there is none.
import { isObject } from './json-fields.js';
import { LATEST_VERSION, SUPPORTED_VERSIONS } from './versions.js';

export interface VersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

export function versionInfo(stdin: string): VersionInfo {
  let cniVersion: string = LATEST_VERSION;
  try {
    const doc: unknown = JSON.parse(stdin);
    if (isObject(doc) && typeof doc.cniVersion === 'string') cniVersion = doc.cniVersion || LATEST_VERSION;
  } catch {
    // no or unreadable input: answer in the newest version
  }
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}
