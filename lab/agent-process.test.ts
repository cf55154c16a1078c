import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoPath } from '../common/paths.js';
import { AGENT_NODE_FLAGS, agentProgram } from './agent-process.js';

describe('the agent program', () => {
  it('runs under the same node flags in the lab as in the DaemonSet', () => {
    const docs = parseAllDocuments(readFileSync(repoPath('deploy/daemonset.yaml'), 'utf8')).map((d) =>
      d.toJS(),
    );
    const ds = docs.find((d) => d?.kind === 'DaemonSet');
    const agent = ds.spec.template.spec.containers.find((c: { name: string }) => c.name === 'agent');
    const flags = (agent.command as string[]).filter((a) => a.startsWith('--'));
    expect(flags).toEqual(AGENT_NODE_FLAGS);
    expect(agentProgram(false).slice(1, 1 + AGENT_NODE_FLAGS.length)).toEqual(AGENT_NODE_FLAGS);
  });
});
