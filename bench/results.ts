// Where benchmarks leave their figures: one line of JSON on stdout, the same in
// bench/results/<name>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { repoPath } from '../common/paths.js';

export function publish(name: string, figures: Record<string, unknown>): void {
  const dir = repoPath('bench/results');
  mkdirSync(dir, { recursive: true });
  const line = JSON.stringify(figures);
  writeFileSync(`${dir}/${name}.json`, `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`${line}\n`);
}
