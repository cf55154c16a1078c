// The spec's name rules, shared by the environment, the network config and GC's attachment list.

/** CNI_CONTAINERID and the network `name` (spec: "must match ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$"). */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Linux IFNAMSIZ - 1. */
export const MAX_IFNAME_LENGTH = 15;

/** Why `name` is not a usable interface name (Go skel's rules), or undefined when it is. */
export function ifnameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (Buffer.byteLength(name) > MAX_IFNAME_LENGTH) return `must be at most ${MAX_IFNAME_LENGTH} bytes`;
  if (name === '.' || name === '..') return `must not be "${name}"`;
  if (/[/:\s]/.test(name)) return 'must not contain "/", ":" or whitespace';
  return undefined;
}
