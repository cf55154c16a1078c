// Loads the gobgp 3.10 gRPC API from the .proto files Debian's golang-github-osrg-gobgp-dev
// installs (never copied into this repo), plus the helpers for google.protobuf.Any. The static
// types come from proto/generated/ (scripts/gen-proto-types.sh, run by scripts/setup.sh) and are
// imported as types only, so nothing generated is needed at run time.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/gobgp.js';

export const DEFAULT_GOBGP_PROTO_DIR = '/usr/share/gocode/src/github.com/osrg/gobgp/api';
export const GOBGP_PROTO_DIR_ENV = 'TABBY_GOBGP_PROTO_DIR';
/** capability.proto too: without it ListPeer's remoteCap/localCap stay packed. */
export const GOBGP_PROTO_FILES = ['gobgp.proto', 'attribute.proto', 'capability.proto'] as const;

/** Keep in step with scripts/gen-proto-types.sh, whose types describe what this returns. */
export const GOBGP_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  // Expands google.protobuf.Any in responses to { '@type': ..., ...fields }.
  json: true,
};

export class GobgpProtoError extends Error {
  readonly code = 'TABBY_GOBGP_PROTO';
  constructor(message: string) {
    super(message);
    this.name = 'GobgpProtoError';
  }
}

export type GobgpPackage = ProtoGrpcType['apipb'];

/** The proto directory: $TABBY_GOBGP_PROTO_DIR, else Debian's. */
export const gobgpProtoDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env[GOBGP_PROTO_DIR_ENV] || DEFAULT_GOBGP_PROTO_DIR;

const loaded = new Map<string, GobgpPackage>();

/** Parses the protos once per directory (about 150 ms) and returns the `apipb` package. */
export function loadGobgpProto(dir: string = gobgpProtoDir()): GobgpPackage {
  let pkg = loaded.get(dir);
  if (pkg) return pkg;
  const missing = GOBGP_PROTO_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new GobgpProtoError(
      `gobgp API protos not found: ${missing.map((f) => join(dir, f)).join(', ')} ` +
        `(install golang-github-osrg-gobgp-dev, e.g. via npm run setup, or set ${GOBGP_PROTO_DIR_ENV} ` +
        `to the directory holding ${GOBGP_PROTO_FILES.join(', ')})`,
    );
  }
  const def = protoLoader.loadSync([...GOBGP_PROTO_FILES], { ...GOBGP_LOADER_OPTIONS, includeDirs: [dir] });
  pkg = (grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType).apipb;
  loaded.set(dir, pkg);
  return pkg;
}

/** The type URL of an apipb message, e.g. `type.googleapis.com/apipb.IPAddressPrefix`. */
export const typeUrl = (message: string): string => `type.googleapis.com/apipb.${message}`;

/**
 * A google.protobuf.Any for a request: `{ '@type': typeUrl, ...fields }` (protobufjs packs it;
 * a manual `{type_url, value}` would need `type_url` spelled so even with keepCase false).
 */
export const anyOf = <T extends object>(message: string, fields: T): T & { '@type': string } => ({
  '@type': typeUrl(message),
  ...fields,
});

/** The message name of an expanded Any from a response (`IPAddressPrefix`), '' when not expanded. */
export function anyType(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '';
  const t = (value as { '@type'?: unknown })['@type'];
  if (typeof t !== 'string') return '';
  return t.slice(t.lastIndexOf('/') + 1).replace(/^apipb\./, '');
}
