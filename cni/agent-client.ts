// The agent's unix socket: one connection per request, one JSON line each way. An agent that is
// down, missing or slow is "try again later" (code 11) naming the socket; for STATUS it is
// "not available" (code 50), which is what STATUS exists to report.
import { connect } from 'node:net';
import { parseAgentReply } from './agent-reply.js';
import { CniError } from './errors.js';
import { type AgentRequest, type AgentVerb, CNI_ERROR, type CniResult } from './protocol.js';

/** ADD may wait for IPAM (datastore round trips, block claims); the runtime's own timeout is longer. */
export const AGENT_TIMEOUT_MS = 90_000;
/** STATUS is a readiness probe: answer quickly. */
export const STATUS_TIMEOUT_MS = 5_000;
/** A reply longer than this without a newline is not an agent reply. */
const MAX_REPLY_CHARS = 1 << 20;

export const agentTimeoutMs = (verb: AgentVerb): number =>
  verb === 'STATUS' ? STATUS_TIMEOUT_MS : AGENT_TIMEOUT_MS;

/** Sends one request; resolves to the agent's result (if it sent one), rejects with a CniError. */
export type CallAgent = (socketPath: string, request: AgentRequest) => Promise<CniResult | undefined>;

export function callAgent(
  socketPath: string,
  request: AgentRequest,
  timeoutMs: number = agentTimeoutMs(request.verb),
): Promise<CniResult | undefined> {
  const unavailable = (why: string, details?: string): CniError => {
    const code = request.verb === 'STATUS' ? CNI_ERROR.notAvailable : CNI_ERROR.tryAgainLater;
    const advice = request.verb === 'STATUS' ? 'not ready' : 'try again later';
    return new CniError(code, `tabby agent at ${socketPath} ${why}: ${advice}`, details);
  };
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let reply = '';
    let settled = false;
    const settle = (outcome: () => CniResult | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(outcome());
      } catch (e) {
        reject(e);
      }
    };
    const timer = setTimeout(() => {
      settle(() => {
        throw unavailable(`did not answer ${request.verb} within ${timeoutMs / 1000} s`);
      });
    }, timeoutMs);
    socket.setEncoding('utf8');
    // write, not end: an agent with allowHalfOpen off would close its side on our FIN before answering.
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      const newline = reply.indexOf('\n');
      if (newline >= 0) settle(() => parseAgentReply(reply.slice(0, newline)));
      else if (reply.length > MAX_REPLY_CHARS) {
        settle(() => parseAgentReply(reply)); // fails: not a complete JSON line
      }
    });
    socket.on('end', () => {
      settle(() => {
        if (reply.trim() === '') throw unavailable(`closed the connection without answering ${request.verb}`);
        return parseAgentReply(reply);
      });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      settle(() => {
        throw unavailable(`is not reachable (${e.code ?? 'error'})`, e.message);
      });
    });
  });
}
