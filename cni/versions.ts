// The spec versions the plugin speaks, and the verb gates between them.
import type { CniCommand } from './env.js';
import { incompatibleVersion } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

const VERSION_PATTERN = /^(\d+)\.(\d+)\.(\d+)$/;

/** `1.0.0`-shaped: anything else in cniVersion is an invalid config, not an unsupported version. */
export const isVersionString = (s: string): boolean => VERSION_PATTERN.test(s);

export const isSupportedVersion = (s: string): s is CniVersion =>
  (SUPPORTED_VERSIONS as readonly string[]).includes(s);

/** Negative, zero or positive as a is older than, equal to or newer than b (both `x.y.z`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Verbs newer than the spec version the runtime asked for are refused (code 1). */
const MINIMUM_VERSION: Readonly<Partial<Record<CniCommand, CniVersion>>> = {
  CHECK: '0.4.0',
  GC: '1.1.0',
  STATUS: '1.1.0',
};

export function requireVersionFor(verb: CniCommand, version: CniVersion): void {
  const minimum = MINIMUM_VERSION[verb];
  if (minimum && compareVersions(version, minimum) < 0) {
    throw incompatibleVersion(
      `cniVersion: ${verb} needs cniVersion ${minimum} or newer, the config has ${version}`,
    );
  }
}
