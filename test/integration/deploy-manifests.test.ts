// deploy/ against the real API server: RBAC applies, the DaemonSet and the example pool pass
// server-side validation (dry run), and the CNI config list is one the plugin accepts.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { repoPath } from '../../common/paths.js';
import { run } from '../../kernel/index.js';
import { runCni } from '../../lab/cni-runner.js';
import { controlPlaneBinaries } from '../../lab/control-plane/index.js';
import { isRoot, ROOT_REASON } from '../helpers.js';

describe.skipIf(!isRoot)(`deploy manifests (${ROOT_REASON})`, () => {
  const kubectl = (...args: string[]) =>
    run([controlPlaneBinaries().kubectl, '--kubeconfig', inject('kubeconfig'), ...args], {
      timeoutMs: 60_000,
    });

  it('RBAC applies; the DaemonSet and the example IPPool pass server-side validation', async () => {
    await kubectl('apply', '-f', repoPath('deploy/rbac.yaml'));
    const { stdout } = await kubectl(
      'apply',
      '--dry-run=server',
      '-f',
      repoPath('deploy/daemonset.yaml'),
      '-f',
      repoPath('deploy/ippool-example.yaml'),
      '-f',
      repoPath('deploy/ipam-gc.yaml'),
    );
    expect(stdout).toMatch(/daemonset.apps\/tabby-agent created \(server dry run\)/);
    expect(stdout).toMatch(/ippool.tabby.dev\/default-ipv4 created \(server dry run\)/);
    expect(stdout).toMatch(/deployment.apps\/tabby-ipam-gc created \(server dry run\)/);
    const can = await kubectl(
      'auth',
      'can-i',
      'patch',
      'pods',
      '--as=system:serviceaccount:tabby-system:tabby-agent',
    );
    expect(can.stdout.trim()).toBe('yes');
    const gc = await kubectl(
      'auth',
      'can-i',
      'list',
      'pods',
      '--all-namespaces',
      '--as=system:serviceaccount:tabby-system:tabby-agent',
    );
    expect(gc.stdout.trim()).toBe('yes');
  });

  it('RBAC: the agent reads BGP objects, annotates Nodes, and gets Secrets in tabby-system only', async () => {
    await kubectl('apply', '-f', repoPath('deploy/rbac.yaml'));
    const can = async (...args: string[]) => {
      // `auth can-i` exits 1 for "no": that answer is on stdout either way.
      const out = await kubectl(
        'auth',
        'can-i',
        ...args,
        '--as=system:serviceaccount:tabby-system:tabby-agent',
      ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      return out.stdout.trim();
    };
    expect(await can('watch', 'bgppeers.tabby.dev')).toBe('yes');
    expect(await can('list', 'bgpconfigurations.tabby.dev')).toBe('yes');
    expect(await can('create', 'bgppeers.tabby.dev')).toBe('no');
    expect(await can('patch', 'nodes')).toBe('yes');
    expect(await can('watch', 'nodes')).toBe('yes');
    expect(await can('get', 'secrets', '-n', 'tabby-system')).toBe('yes');
    expect(await can('list', 'secrets', '-n', 'tabby-system')).toBe('no');
    expect(await can('get', 'secrets', '-n', 'kube-system')).toBe('no');
    expect(await can('get', 'secrets', '-n', 'default')).toBe('no');
  });

  it('the CNI config list is valid for the plugin (STATUS reaches the agent check, code 50)', async () => {
    const list = JSON.parse(readFileSync(repoPath('deploy/cni/10-tabby.conflist'), 'utf8')) as {
      name: string;
      plugins: Record<string, unknown>[];
    };
    const conf = {
      ...list.plugins[0],
      name: list.name,
      cniVersion: '1.1.0',
      agentSocket: '/run/tabby/no-such-agent.sock',
    };
    const out = await runCni({ command: 'STATUS' }, conf);
    expect(out.json).toMatchObject({ code: 50 });
  });
});
