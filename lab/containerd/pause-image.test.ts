import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ociArch, PAUSE_APPLETS, PAUSE_IMAGE, pauseImageTar } from './pause-image.js';

/** Reads a ustar archive written by tar.ts (no extensions): path → data. */
function untar(tar: Buffer): Map<string, { type: string; data: Buffer; link: string }> {
  const out = new Map<string, { type: string; data: Buffer; link: string }>();
  const str = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const prefix = str(h.subarray(345, 500));
    const name = (prefix ? `${prefix}/` : '') + str(h.subarray(0, 100));
    const size = Number.parseInt(str(h.subarray(124, 136)), 8);
    out.set(name, {
      type: str(h.subarray(156, 157)),
      data: tar.subarray(off + 512, off + 512 + size),
      link: str(h.subarray(157, 257)),
    });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('pause image (OCI layout)', () => {
  const busybox = Buffer.from('#!fake busybox\n');
  const tar = pauseImageTar(busybox, 'amd64');
  const files = untar(tar);
  const json = <T>(path: string): T => JSON.parse(files.get(path)?.data.toString() ?? 'null') as T;
  const blob = (digest: string) =>
    files.get(`blobs/sha256/${digest.slice('sha256:'.length)}`)?.data as Buffer;

  it('has an oci-layout and an index naming the image for containerd and OCI', () => {
    expect(json('oci-layout')).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = json<{ manifests: { digest: string; annotations: Record<string, string> }[] }>(
      'index.json',
    );
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]?.annotations).toEqual({
      'io.containerd.image.name': PAUSE_IMAGE,
      'org.opencontainers.image.ref.name': '1',
    });
  });

  it('stores every blob under its digest; the config sleeps forever as pid 1', () => {
    const index = json<{ manifests: { digest: string; size: number }[] }>('index.json');
    const mdesc = index.manifests[0] as { digest: string; size: number };
    const manifest = blob(mdesc.digest);
    expect(sha(manifest)).toBe(mdesc.digest);
    expect(manifest.length).toBe(mdesc.size);
    const m = JSON.parse(manifest.toString()) as {
      config: { digest: string };
      layers: { digest: string; mediaType: string }[];
    };
    const config = JSON.parse(blob(m.config.digest).toString()) as {
      architecture: string;
      os: string;
      config: { Entrypoint: string[] };
      rootfs: { diff_ids: string[] };
    };
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux' });
    expect(config.config.Entrypoint).toEqual(['/bin/sleep', '2147483647']);
    const layerDigest = m.layers[0]?.digest as string;
    expect(config.rootfs.diff_ids).toEqual([layerDigest]); // uncompressed: diff_id = digest
    expect(sha(blob(layerDigest))).toBe(layerDigest);
  });

  it('has a layer with busybox and the applet symlinks', () => {
    const index = json<{ manifests: { digest: string }[] }>('index.json');
    const m = JSON.parse(blob(index.manifests[0]?.digest as string).toString()) as {
      layers: { digest: string }[];
    };
    const layer = untar(blob(m.layers[0]?.digest as string));
    expect(layer.get('bin/busybox')?.data.equals(busybox)).toBe(true);
    for (const a of ['sh', 'sleep', 'ping', 'ip']) expect(PAUSE_APPLETS).toContain(a);
    for (const a of PAUSE_APPLETS)
      expect(layer.get(`bin/${a}`)).toMatchObject({ type: '2', link: 'busybox' });
  });

  it('is reproducible and maps Node arches to OCI ones', () => {
    expect(pauseImageTar(busybox, 'amd64').equals(tar)).toBe(true);
    expect(ociArch('x64')).toBe('amd64');
    expect(ociArch('arm64')).toBe('arm64');
  });
});
