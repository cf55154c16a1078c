// The CNI_* environment: which verb, and for ADD/DEL/CHECK which attachment. Every problem is an
// invalid-env error (code 4) naming the variable. CNI_PATH is not read: tabby delegates nothing.
import { invalidEnv } from './errors.js';
import { ifnameProblem, NAME_PATTERN } from './names.js';

export type PluginEnv = Readonly<Record<string, string | undefined>>;

export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];
/** The verbs that act on one attachment (container + interface). */
export type AttachmentCommand = 'ADD' | 'DEL' | 'CHECK';

export const isAttachmentCommand = (c: CniCommand): c is AttachmentCommand =>
  c === 'ADD' || c === 'DEL' || c === 'CHECK';

const isCniCommand = (s: string): s is CniCommand => (CNI_COMMANDS as readonly string[]).includes(s);

export function readCommand(env: PluginEnv): CniCommand {
  const command = env.CNI_COMMAND;
  if (!command) throw invalidEnv('CNI_COMMAND: required');
  if (!isCniCommand(command)) {
    throw invalidEnv(
      `CNI_COMMAND: unknown command "${command}" (expected one of ${CNI_COMMANDS.join(', ')})`,
    );
  }
  return command;
}

export interface AttachmentEnv {
  containerId: string;
  ifname: string;
  /** Absent when CNI_NETNS is empty (allowed for DEL only: the namespace is gone). */
  netns?: string;
  /** CNI_ARGS as given ('' when unset). */
  args: string;
}

export function readAttachmentEnv(command: AttachmentCommand, env: PluginEnv): AttachmentEnv {
  const required = ['CNI_CONTAINERID', 'CNI_IFNAME', ...(command === 'DEL' ? [] : ['CNI_NETNS'])];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw invalidEnv(`${missing.join(', ')}: required for ${command}`);
  }
  const containerId = env.CNI_CONTAINERID as string;
  if (!NAME_PATTERN.test(containerId)) {
    throw invalidEnv(`CNI_CONTAINERID: "${containerId}" must match ${NAME_PATTERN.source}`);
  }
  const ifname = env.CNI_IFNAME as string;
  const problem = ifnameProblem(ifname);
  if (problem) throw invalidEnv(`CNI_IFNAME: "${ifname}" ${problem}`);
  const netns = env.CNI_NETNS || undefined;
  if (netns !== undefined && !netns.startsWith('/')) {
    throw invalidEnv(`CNI_NETNS: "${netns}" must be an absolute path`);
  }
  const result: AttachmentEnv = { containerId, ifname, args: env.CNI_ARGS ?? '' };
  if (netns !== undefined) result.netns = netns;
  return result;
}
