// The pod sandbox ("pause") image for containerd's CRI, built offline from busybox-static: an
// OCI image layout tarball with one layer (/bin/busybox plus applet symlinks), entrypoint
// `/bin/sleep 2147483647`, named localhost/tabby-pause:1 for `ctr images import`.
// Cached under the cache dir, keyed by the busybox binary's hash and this recipe.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientToolPaths } from './paths.js';
import { type TarEntry, writeTar } from './tar.js';

export const PAUSE_IMAGE = 'localhost/tabby-pause:1';
export const BUSYBOX = '/bin/busybox';

/** Applets the sandbox (and tests exec'ing into its namespaces) can use. */
export const PAUSE_APPLETS = [
  'sh',
  'sleep',
  'ping',
  'ping6',
  'ip',
  'ifconfig',
  'route',
  'arping',
  'nc',
  'wget',
  'cat',
  'ls',
  'echo',
  'hostname',
  'sysctl',
  'ps',
  'kill',
  'true',
  'false',
  'traceroute',
] as const;

const RECIPE_VERSION = 1;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const blob = (mediaType: string, data: Buffer): { desc: Descriptor; entry: TarEntry } => {
  const hex = sha256(data);
  return {
    desc: { mediaType, digest: `sha256:${hex}`, size: data.length },
    entry: { type: 'file', path: `blobs/sha256/${hex}`, data },
  };
};

/** OCI's name for Node's process.arch. */
export function ociArch(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return map[arch] ?? arch;
}

/** Pure: the OCI image layout tarball for a busybox binary. Same input, same bytes. */
export function pauseImageTar(busybox: Uint8Array, arch = ociArch(), image = PAUSE_IMAGE): Buffer {
  const layer = writeTar([
    { type: 'dir', path: 'bin' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    ...PAUSE_APPLETS.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
  ]);
  const layerBlob = blob(OCI_LAYER, layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: {
        Env: ['PATH=/bin'],
        Entrypoint: ['/bin/sleep', '2147483647'],
        WorkingDir: '/',
      },
      rootfs: { type: 'layers', diff_ids: [layerBlob.desc.digest] },
      history: [{ created_by: 'tabby lab/containerd/pause-image.ts', comment: 'busybox-static' }],
    }),
  );
  const configBlob = blob(OCI_CONFIG, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: configBlob.desc,
      layers: [layerBlob.desc],
    }),
  );
  const manifestBlob = blob(OCI_MANIFEST, manifest);
  const tag = image.slice(image.lastIndexOf(':') + 1);
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        ...manifestBlob.desc,
        annotations: { 'io.containerd.image.name': image, 'org.opencontainers.image.ref.name': tag },
        platform: { architecture: arch, os: 'linux' },
      },
    ],
  };
  return writeTar([
    { type: 'file', path: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { type: 'file', path: 'index.json', data: Buffer.from(JSON.stringify(index)) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
    layerBlob.entry,
    configBlob.entry,
    manifestBlob.entry,
  ]);
}

export interface PauseImage {
  /** The OCI layout tarball, for `ctr images import`. */
  tarball: string;
  /** The image reference CRI uses (sandbox_image). */
  image: string;
}

/** Builds the pause image tarball once per busybox binary; later calls return the cached file. */
export function ensurePauseImage(opts: { busybox?: string; cacheDir?: string } = {}): PauseImage {
  const busybox = readFileSync(opts.busybox ?? BUSYBOX);
  const dir = opts.cacheDir ?? clientToolPaths().pauseImageDir;
  const key = sha256(Buffer.concat([busybox, Buffer.from(`|${RECIPE_VERSION}|${PAUSE_APPLETS.join(',')}`)]));
  const tarball = join(dir, `tabby-pause-${key.slice(0, 16)}.tar`);
  if (existsSync(tarball)) return { tarball, image: PAUSE_IMAGE };
  mkdirSync(dir, { recursive: true });
  const tmp = `${tarball}.${process.pid}.tmp`;
  writeFileSync(tmp, pauseImageTar(busybox));
  renameSync(tmp, tarball); // atomic: a reader never sees a half-written tarball
  return { tarball, image: PAUSE_IMAGE };
}
