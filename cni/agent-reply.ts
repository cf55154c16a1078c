// The agent's one-line reply → its result, or its error as a CniError with the agent's own code.
// Anything that is not a well-formed AgentResponse is an internal error (code 100).
import { CniError } from './errors.js';
import { isObject } from './json-fields.js';
import { CNI_ERROR, type CniResult } from './protocol.js';
import { parseResult } from './result-parse.js';

const malformed = (details: string): CniError =>
  new CniError(CNI_ERROR.internal, 'tabby agent sent a malformed reply', details);

function agentError(error: unknown): CniError {
  if (!isObject(error)) return malformed('"error" must be an object');
  const { code, msg, details } = error;
  if (typeof code !== 'number' || !Number.isInteger(code) || code <= 0) {
    return malformed('"error.code" must be a positive integer');
  }
  if (typeof msg !== 'string') return malformed('"error.msg" must be a string');
  if (details !== undefined && typeof details !== 'string')
    return malformed('"error.details" must be a string');
  return new CniError(code, msg, details || undefined);
}

/** The result of a successful reply (undefined when it carries none); throws the agent's error otherwise. */
export function parseAgentReply(line: string): CniResult | undefined {
  let reply: unknown;
  try {
    reply = JSON.parse(line);
  } catch (e) {
    throw malformed(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(reply) || typeof reply.ok !== 'boolean') throw malformed('expected {"ok": true|false, ...}');
  if (!reply.ok) throw agentError(reply.error);
  if (reply.result === undefined || reply.result === null) return undefined;
  try {
    return parseResult(reply.result, 'result');
  } catch (e) {
    throw malformed(e instanceof CniError ? e.msg : String(e));
  }
}
