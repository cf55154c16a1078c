// Where `npm run setup` (scripts/build-cnitool.sh) put cnitool and the CRI API proto, and where
// the pause image is cached. scripts/versions.sh holds the pins; the environment overrides, as
// in the shell: CNITOOL_VERSION, CRI_API_VERSION, TABBY_CACHE_DIR, TABBY_CNITOOL_DIR,
// TABBY_CRI_API_DIR.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readVersions } from '../control-plane/binaries.js';
import { LabError } from '../errors.js';

export interface ClientToolPaths {
  /** The version-keyed cache root (default /var/cache/tabby). */
  cacheDir: string;
  cnitool: string;
  cnitoolVersion: string;
  /** k8s.io/cri-api pkg/apis/runtime/v1/api.proto */
  criProto: string;
  criApiVersion: string;
  /** Directory for pause image tarballs (keyed by the busybox binary's hash). */
  pauseImageDir: string;
}

/** Pure: derives the paths from versions.sh values and the environment, as the shell does. */
export function clientToolPaths(
  versions: Record<string, string> = readVersions(),
  env: NodeJS.ProcessEnv = process.env,
): ClientToolPaths {
  const cacheDir = versions.TABBY_CACHE_DIR ?? '/var/cache/tabby';
  const cnitoolVersion = versions.CNITOOL_VERSION ?? '';
  const criApiVersion = versions.CRI_API_VERSION ?? '';
  const cnitoolDir = env.TABBY_CNITOOL_DIR ?? join(cacheDir, 'cnitool', cnitoolVersion);
  const criDir = env.TABBY_CRI_API_DIR ?? join(cacheDir, 'cri-api', criApiVersion);
  return {
    cacheDir,
    cnitool: join(cnitoolDir, 'cnitool'),
    cnitoolVersion,
    criProto: join(criDir, 'api.proto'),
    criApiVersion,
    pauseImageDir: join(cacheDir, 'pause-image'),
  };
}

function mustExist(path: string, what: string): string {
  if (!existsSync(path)) throw new LabError(`${what} ${path} is missing: run \`npm run setup\``);
  return path;
}

/** The cached cnitool binary; throws LabError naming `npm run setup` when it is missing. */
export const cnitoolPath = (): string => mustExist(clientToolPaths().cnitool, 'cnitool');

/** The cached CRI api.proto; throws LabError naming `npm run setup` when it is missing. */
export const criProtoPath = (): string => mustExist(clientToolPaths().criProto, 'CRI API proto');
