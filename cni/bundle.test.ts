// The plugin starts on every pod ADD/DEL: its import graph must stay cni/ + node builtins (no
// common/, no npm package) and its bundle small.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_BUNDLE_BYTES = 40_000;

describe('plugin bundle', () => {
  it('is built from cni/ and node builtins only, and stays under 40 kB', async () => {
    const result = await build({
      entryPoints: ['cni/main.ts'],
      absWorkingDir: ROOT,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('cni/main.ts');
    expect(inputs.filter((path) => !/^cni\/[^/]+\.ts$/.test(path))).toEqual([]);
    expect(inputs.filter((path) => path.endsWith('.test.ts'))).toEqual([]);
    const external = Object.values(result.metafile.inputs).flatMap((i) =>
      i.imports.filter((imp) => imp.external).map((imp) => imp.path),
    );
    expect(external.filter((path) => !path.startsWith('node:'))).toEqual([]);
    const [output] = Object.values(result.metafile.outputs);
    expect(output?.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
  });
});
