// The plugin in skel's shape: I/O and the agent are injected, so tests run it in-process. Every
// outcome is an exit code plus, on stdout, the result (ADD), the version info (VERSION), nothing
// (DEL/CHECK/GC/STATUS), or a spec error document.
import type { CallAgent } from './agent-client.js';
import { type AgentCommand, buildAgentRequest } from './agent-request.js';
import { resultDns } from './dns.js';
import { type PluginEnv, readCommand } from './env.js';
import { CniError, renderError, toCniError } from './errors.js';
import { isObject } from './json-fields.js';
import { supportedVersionOf } from './netconf.js';
import { CNI_ERROR, type CniResult } from './protocol.js';
import { renderResult } from './result-render.js';
import { versionInfo } from './version-verb.js';
import { type CniVersion, LATEST_VERSION } from './versions.js';

export interface PluginIo {
  env: PluginEnv;
  stdin: string;
  stdout: (text: string) => void;
  /** Logs only: runtimes read the outcome from stdout. */
  stderr: (text: string) => void;
}

export interface PluginDeps {
  callAgent: CallAgent;
}

/** The cniVersion error documents are written in: the config's when readable and supported. */
function errorVersion(stdin: string): CniVersion {
  try {
    const doc: unknown = JSON.parse(stdin);
    return (isObject(doc) && supportedVersionOf(doc)) || LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}

async function runAgentCommand(command: AgentCommand, io: PluginIo, deps: PluginDeps): Promise<void> {
  const request = buildAgentRequest(command, io.env, io.stdin, (line) => io.stderr(`${line}\n`));
  const result: CniResult | undefined = await deps.callAgent(request.conf.agentSocket, request);
  if (command !== 'ADD') return;
  if (!result) throw new CniError(CNI_ERROR.internal, 'tabby agent answered ADD without a result');
  const dns = resultDns(request.dns, request.conf.dns, result.dns);
  const rendered = renderResult({ ...result, dns }, request.conf.cniVersion);
  io.stdout(`${JSON.stringify(rendered)}\n`);
}

/** Runs one plugin invocation; resolves to the process exit code (0 success, 1 error). */
export async function runPlugin(io: PluginIo, deps: PluginDeps): Promise<number> {
  try {
    const command = readCommand(io.env);
    if (command === 'VERSION') io.stdout(`${JSON.stringify(versionInfo(io.stdin))}\n`);
    else await runAgentCommand(command, io, deps);
    return 0;
  } catch (e) {
    if (!(e instanceof CniError))
      io.stderr(`tabby: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    io.stdout(renderError(errorVersion(io.stdin), toCniError(e)));
    return 1;
  }
}
