// Validated input → the AgentRequest for each verb. Checks run in skel's order: environment
// (code 4) and CNI_ARGS (2/4) first, then the config (6/7/1), then what the verb needs from it.
import { parseCniArgs } from './cni-args.js';
import { parseRuntimeDns } from './dns.js';
import {
  type AttachmentCommand,
  type CniCommand,
  isAttachmentCommand,
  type PluginEnv,
  readAttachmentEnv,
} from './env.js';
import { CniError, invalidConfig } from './errors.js';
import { parseValidAttachments } from './gc-attachments.js';
import { type JsonObject, optionalObject } from './json-fields.js';
import { decodeNetConf, parseTabbyNetConf, type VersionedNetConf } from './netconf.js';
import { type AgentRequest, type CniResult, PROTOCOL_VERSION } from './protocol.js';
import { parseResult } from './result-parse.js';
import { requireVersionFor } from './versions.js';

export type AgentCommand = Exclude<CniCommand, 'VERSION'>;

/** An AgentRequest whose config's cniVersion is one the plugin renders results in. */
export type PluginRequest = AgentRequest & { conf: VersionedNetConf };

/** Decodes and parses the config on stdin, and checks `command` accepts its cniVersion (6, 7, 1). */
function readNetConf(command: AgentCommand, stdin: string): { doc: JsonObject; conf: VersionedNetConf } {
  const doc = decodeNetConf(stdin);
  const conf = parseTabbyNetConf(doc);
  requireVersionFor(command, conf.cniVersion);
  return { doc, conf };
}

function parsePrevResult(
  doc: JsonObject,
  command: AttachmentCommand,
  warn: (line: string) => void,
): CniResult | undefined {
  const raw = doc.prevResult;
  if (raw === undefined || raw === null) {
    if (command === 'CHECK') throw invalidConfig('prevResult: required for CHECK');
    return undefined;
  }
  try {
    return parseResult(raw, 'prevResult');
  } catch (e) {
    // DEL is best effort: a prevResult it cannot read must not keep the agent from releasing.
    if (command === 'DEL' && e instanceof CniError) {
      warn(`tabby: DEL: ignoring unreadable prevResult: ${e.msg}`);
      return undefined;
    }
    throw e;
  }
}

function attachmentRequest(
  command: AttachmentCommand,
  env: PluginEnv,
  stdin: string,
  warn: (line: string) => void,
): PluginRequest {
  const attachment = readAttachmentEnv(command, env);
  const pod = parseCniArgs(attachment.args);
  const { doc, conf } = readNetConf(command, stdin);
  const request: PluginRequest = {
    protocol: PROTOCOL_VERSION,
    verb: command,
    containerId: attachment.containerId,
    ifname: attachment.ifname,
    conf,
  };
  if (attachment.netns !== undefined) request.netns = attachment.netns;
  if (Object.keys(pod).length > 0) request.pod = pod;
  if (command === 'ADD') {
    const dns = parseRuntimeDns(optionalObject(doc, 'runtimeConfig', 'runtimeConfig'));
    if (dns) request.dns = dns;
  } else {
    const prevResult = parsePrevResult(doc, command, warn);
    if (prevResult) request.prevResult = prevResult;
  }
  return request;
}

/** The request for `command`, or the CniError that stops it before the agent hears of it. */
export function buildAgentRequest(
  command: AgentCommand,
  env: PluginEnv,
  stdin: string,
  warn: (line: string) => void,
): PluginRequest {
  if (isAttachmentCommand(command)) return attachmentRequest(command, env, stdin, warn);
  const { doc, conf } = readNetConf(command, stdin);
  const request: PluginRequest = { protocol: PROTOCOL_VERSION, verb: command, conf };
  if (command === 'GC') request.validAttachments = parseValidAttachments(doc);
  return request;
}
