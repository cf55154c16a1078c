// The CNI bin and conf dirs a runtime is pointed at: symlinks to the plugins it may run (Debian's
// reference plugins are in /usr/lib/cni) and one conflist.
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REFERENCE_PLUGIN_DIR = '/usr/lib/cni';

/** name → binary for Debian's reference plugins (all of them, or the named ones). */
export function referencePlugins(names?: readonly string[]): Record<string, string> {
  const all = readdirSync(REFERENCE_PLUGIN_DIR);
  const pick = names ?? all;
  const missing = pick.filter((n) => !all.includes(n));
  if (missing.length > 0)
    throw new Error(`no such reference CNI plugin(s) in ${REFERENCE_PLUGIN_DIR}: ${missing}`);
  return Object.fromEntries(pick.map((n) => [n, join(REFERENCE_PLUGIN_DIR, n)]));
}

/** Creates binDir (if needed) with a symlink per plugin: name → binary. */
export function linkCniPlugins(binDir: string, plugins: Readonly<Record<string, string>>): void {
  mkdirSync(binDir, { recursive: true });
  for (const [name, target] of Object.entries(plugins)) {
    rmSync(join(binDir, name), { force: true });
    symlinkSync(target, join(binDir, name));
  }
}

/** Writes `<confDir>/<file>` (default `10-<name>.conflist`); returns its path. */
export function writeCniConfig(
  confDir: string,
  conf: { name: string; cniVersion: string } & Record<string, unknown>,
  file = `10-${conf.name}.conflist`,
): string {
  mkdirSync(confDir, { recursive: true });
  const path = join(confDir, file);
  writeFileSync(path, `${JSON.stringify(conf, null, 2)}\n`);
  return path;
}
