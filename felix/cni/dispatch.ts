// One request in, one response out: the verb's handler, errors mapped to spec codes.
import { type AgentRequest, type AgentResponse, CNI_ERROR, PROTOCOL_VERSION } from '../../cni/protocol.js';
import { toErrorBody } from '../errors.js';
import { add } from './add.js';
import { check } from './check.js';
import type { VerbContext } from './context.js';
import { del } from './del.js';
import { gc } from './gc.js';
import { status } from './status.js';

export async function dispatch(ctx: VerbContext, req: AgentRequest): Promise<AgentResponse> {
  if (req?.protocol !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: {
        code: CNI_ERROR.protocolMismatch,
        msg: `plugin speaks protocol ${String(req?.protocol)}, the agent ${PROTOCOL_VERSION}: install the plugin that matches the agent`,
      },
    };
  }
  const started = performance.now();
  try {
    switch (req.verb) {
      case 'ADD':
        return { ok: true, result: await add(ctx, req) };
      case 'DEL':
        await del(ctx, req);
        return { ok: true };
      case 'CHECK':
        await check(ctx, req);
        return { ok: true };
      case 'GC':
        await gc(ctx, req);
        return { ok: true };
      case 'STATUS':
        status(ctx);
        return { ok: true };
      default:
        return {
          ok: false,
          error: { code: CNI_ERROR.invalidEnv, msg: `CNI_COMMAND: unknown verb ${String(req.verb)}` },
        };
    }
  } catch (e) {
    const error = toErrorBody(e);
    ctx.log.warn(
      { verb: req.verb, containerId: req.containerId, code: error.code, msg: error.msg },
      'CNI request failed',
    );
    return { ok: false, error };
  } finally {
    ctx.log.debug(
      { verb: req.verb, containerId: req.containerId, ms: performance.now() - started },
      'CNI request',
    );
  }
}
