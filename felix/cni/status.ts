// STATUS (spec 1.1): ready for ADD, or code 50 with the reason.
import { CNI_ERROR } from '../../cni/protocol.js';
import { AgentError } from '../errors.js';
import type { VerbContext } from './context.js';

export function status(ctx: VerbContext): void {
  const reason = ctx.notReadyReason();
  if (reason) throw new AgentError(CNI_ERROR.notAvailable, `tabby agent not ready: ${reason}`);
}
