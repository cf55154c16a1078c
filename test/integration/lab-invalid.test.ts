// Bad topologies and failed starts: `lab up` refuses with an error naming the field, and leaves
// nothing behind — no namespace, no process, no state file.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ExecError, listNetns, run } from '../../kernel/index.js';
import { FRR_DIR } from '../../lab/frr.js';
import { isRoot, labLeftovers, ROOT_REASON, uniqueName } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TWO_RACKS = readFileSync(join(ROOT, 'lab/topologies/two-racks.clab.yml'), 'utf8');

/** Runs the lab CLI; resolves to its exit code and stderr. */
async function lab(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run([process.execPath, '--import', 'tsx', join(ROOT, 'lab/cli.ts'), ...args], {
      cwd: ROOT,
      env,
    });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    if (e instanceof ExecError) return { code: e.exitCode ?? -1, stderr: e.stderr };
    throw e;
  }
}

describe.skipIf(!isRoot)(`lab up refuses bad input and cleans up failed starts (${ROOT_REASON})`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tabby-invalid-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function expectNothingCreated(name: string) {
    expect(await labLeftovers(name)).toEqual([]);
  }

  const cases: [string, (t: string) => string, RegExp][] = [
    [
      'an unknown node in a link',
      (t) => t.replace('"tor2:eth3", "node4:eth1"', '"tor2:eth3", "node9:eth1"'),
      /topology\.links\[5\]\.endpoints\[1\]: unknown node "node9"/,
    ],
    [
      'a duplicate interface',
      (t) => t.replace('"tor1:eth3", "node2:eth1"', '"tor1:eth2", "node2:eth1"'),
      /topology\.links\[3\]\.endpoints\[0\]: duplicate interface tor1:eth2/,
    ],
    [
      'a bad CIDR',
      (t) => t.replace('tabby.dev/ipv4: 198.18.2.2/31', 'tabby.dev/ipv4: 198.18.2.2/33'),
      /topology\.links\[5\]\.labels\["tabby\.dev\/ipv4"\]: .*invalid prefix length/,
    ],
    [
      'a bad AS number',
      (t) => t.replace('tabby.dev/asn: "65002"', 'tabby.dev/asn: "65002x"'),
      /topology\.nodes\.tor2\.labels\["tabby\.dev\/asn"\]: "65002x" is not an AS number/,
    ],
  ];
  for (const [what, mutate, message] of cases) {
    it(`rejects ${what}, naming the field, with nothing created`, async () => {
      const name = uniqueName('bad');
      const file = join(dir, `${name}.clab.yml`);
      const text = mutate(TWO_RACKS);
      expect(text).not.toBe(TWO_RACKS);
      writeFileSync(file, text);
      const r = await lab(['up', file, '--name', name]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      await expectNothingCreated(name);
    });
  }

  it('refuses when one of its namespace names is taken, touching nothing', async () => {
    const name = uniqueName('clash');
    await addNetns(`${name}-tor1`);
    try {
      const r = await lab(['up', join(ROOT, 'lab/topologies/two-racks.clab.yml'), '--name', name]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${name}-tor1 already exist`);
      expect((await listNetns()).filter((n) => n.startsWith(name))).toEqual([`${name}-tor1`]);
    } finally {
      await deleteNetns(`${name}-tor1`);
    }
    await expectNothingCreated(name);
  });

  it('removes everything it created when one router fails to start while others run', async () => {
    const name = uniqueName('frrfail');
    // FRR stand-ins: the real daemons everywhere except tor2, whose zebra dies at start.
    for (const d of ['zebra', 'bgpd']) {
      const p = join(dir, d);
      const fail =
        d === 'zebra'
          ? 'case "$(ip netns identify $$)" in *-tor2) echo "simulated start failure" >&2; exit 1;; esac\n'
          : '';
      writeFileSync(p, `#!/bin/sh\n${fail}exec ${join(FRR_DIR, d)} "$@"\n`);
      chmodSync(p, 0o755);
    }
    const r = await lab(['up', join(ROOT, 'lab/topologies/two-racks.clab.yml'), '--name', name], {
      ...process.env,
      TABBY_FRR_DIR: dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/zebra@.*-tor2 exited at start/);
    expect(r.stderr).toContain('removing what was created');
    await expectNothingCreated(name);
  });

  it('removes everything it created when a BIRD router fails to start while FRR ones run', async () => {
    const name = uniqueName('birdfail');
    const bird = join(dir, 'bird');
    writeFileSync(bird, '#!/bin/sh\necho "simulated start failure" >&2\nexit 1\n');
    chmodSync(bird, 0o755);
    const r = await lab(['up', join(ROOT, 'lab/topologies/two-racks-bird.clab.yml'), '--name', name], {
      ...process.env,
      TABBY_BIRD: bird,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bird@.*-tor2 exited at start/);
    expect(r.stderr).toContain('removing what was created');
    await expectNothingCreated(name);
  });

  it('rejects a bad LAN address, naming the field, with nothing created', async () => {
    const name = uniqueName('badlan');
    const file = join(dir, `${name}.clab.yml`);
    const text = readFileSync(join(ROOT, 'lab/topologies/one-rack.clab.yml'), 'utf8');
    writeFileSync(file, text.replace('ipv4: 198.18.3.13/24', 'ipv4: 198.18.3.13/32'));
    const r = await lab(['up', file, '--name', name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /topology\.links\[3\]\.labels\["tabby\.dev\/ipv4"\]: "198\.18\.3\.13\/32": \/32 is no LAN/,
    );
    await expectNothingCreated(name);
  });
});
