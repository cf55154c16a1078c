// Files that ship with tabby (pinned versions, CRDs, topologies), found from the repository root
// whether the code runs from source (tsx, vitest) or from the build output (dist/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tabby') {
      root = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the tabby repository root (package.json) above this file');
    dir = up;
  }
}

export const repoPath = (...parts: string[]): string => join(repoRoot(), ...parts);
