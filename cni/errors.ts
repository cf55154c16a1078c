// Typed plugin errors. Every failure leaves the plugin as a spec error: `{"cniVersion","code",
// "msg","details"}` on stdout and exit code 1 (libcni parses stdout; stderr is only logged).
import { CNI_ERROR, type CniErrorBody } from './protocol.js';

export class CniError extends Error {
  readonly code: number;
  constructor(
    code: number,
    /** Names the variable, field or key at fault. */
    readonly msg: string,
    readonly details?: string,
  ) {
    super(details ? `${msg}: ${details}` : msg);
    this.name = 'CniError';
    this.code = code;
  }

  toBody(): CniErrorBody {
    return this.details
      ? { code: this.code, msg: this.msg, details: this.details }
      : { code: this.code, msg: this.msg };
  }
}

/** Shorthands for the codes the plugin raises itself. */
export const invalidEnv = (msg: string): CniError => new CniError(CNI_ERROR.invalidEnv, msg);
export const invalidConfig = (msg: string): CniError => new CniError(CNI_ERROR.invalidConfig, msg);
export const incompatibleVersion = (msg: string): CniError =>
  new CniError(CNI_ERROR.incompatibleVersion, msg);

/** Any thrown value as a CniError: CniErrors pass through, anything else is code 100 (internal). */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new CniError(CNI_ERROR.internal, 'tabby plugin: unexpected error', message);
}

/** The error document printed on stdout. */
export function renderError(cniVersion: string, e: CniError): string {
  return `${JSON.stringify({ cniVersion, ...e.toBody() })}\n`;
}
