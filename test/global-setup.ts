// Once per integration run: one local control plane (etcd + kube-apiserver) shared by all test
// files, and a check that the run leaves the machine as it found it — the same network
// namespaces and no daemon left running.
import type { TestProject } from 'vitest/node';
import { listNetns } from '../kernel/index.js';
import { controlPlaneDown, controlPlaneUp } from '../lab/control-plane/index.js';
import { DAEMONS, liveAgents, liveProcesses } from './helpers.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.getuid?.() !== 0) {
    project.provide('kubeconfig', '');
    project.provide('apiSocket', '');
    return undefined;
  }
  const netnsBefore = new Set(await listNetns());
  const procsBefore = liveProcesses(DAEMONS);
  const agentsBefore = liveAgents();
  const name = `test-${process.pid}`;
  const cp = await controlPlaneUp({ name, progress: (m) => process.stderr.write(`control plane: ${m}\n`) });
  project.provide('kubeconfig', cp.kubeconfig);
  project.provide('apiSocket', cp.apiSocket);
  return async () => {
    await controlPlaneDown(name);
    const extraNetns = (await listNetns()).filter((n) => !netnsBefore.has(n));
    const extraProcs = [
      ...[...liveProcesses(DAEMONS)].filter(([pid]) => !procsBefore.has(pid)),
      ...[...liveAgents()]
        .filter(([pid]) => !agentsBefore.has(pid))
        .map(([pid]) => [pid, 'tabby-agent'] as const),
    ];
    if (extraNetns.length > 0 || extraProcs.length > 0) {
      // vitest reports a teardown error but does not fail the run for it: fail it ourselves.
      process.exitCode = 1;
      throw new Error(
        `the integration run left things behind: namespaces [${extraNetns.join(', ')}], ` +
          `processes [${extraProcs.map(([pid, comm]) => `${comm}(${pid})`).join(', ')}]`,
      );
    }
  };
}
