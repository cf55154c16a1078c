// Errors the agent answers the plugin with: a spec (or tabby) code, a message naming what is
// wrong, details. Everything else thrown inside a verb is mapped here, once.
import { CNI_ERROR, type CniErrorBody } from '../cni/protocol.js';
import { DatastoreError } from '../datastore/errors.js';
import { IpamError } from '../ipam/errors.js';
import { KernelError } from '../kernel/errors.js';

export class AgentError extends Error {
  constructor(
    readonly cniCode: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

export function toErrorBody(e: unknown): CniErrorBody {
  if (e instanceof AgentError) return body(e.cniCode, e.message, e.details);
  if (e instanceof IpamError) {
    switch (e.reason) {
      case 'NoPool':
      case 'PoolExhausted':
        return body(CNI_ERROR.ipamExhausted, `IPAM: ${e.message}`);
      case 'Contention':
        return body(CNI_ERROR.tryAgainLater, `IPAM: ${e.message}`);
      default:
        return body(CNI_ERROR.invalidConfig, `IPAM: ${e.message}`);
    }
  }
  if (e instanceof DatastoreError) {
    const again = e.reason === 'Unavailable' || e.reason === 'Conflict';
    return body(again ? CNI_ERROR.tryAgainLater : CNI_ERROR.internal, `datastore: ${e.message}`);
  }
  if (e instanceof KernelError) return body(CNI_ERROR.dataplane, `kernel: ${e.message}`);
  return body(CNI_ERROR.internal, `tabby agent: ${e instanceof Error ? e.message : String(e)}`);
}

const body = (code: number, msg: string, details?: string): CniErrorBody =>
  details ? { code, msg, details } : { code, msg };
