// GobgpClient and GobgpdSupervisor against real gobgpd 3.10: two test-owned namespaces
// (`tgb-*-a` ↔ `tgb-*-b` over a veth, 198.18.249.0/30), a gobgpd in each started by the
// supervisor in spawn mode. The test runs in the root namespace, so each gobgpd runs via
// `ip netns exec` and serves its API on a unix socket in a temp dir (reachable from any
// namespace). Covers StartBgp, policies and sets, a session with fast timers, originate →
// best event on the peer → withdraw, max-prefix shutdown, kill -9 → restart, and cleanup.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerConfig, PeerStatus, WatchHandle, WatchMessage } from '../../bgp/gobgp-api.js';
import { GobgpClient } from '../../bgp/gobgp-client.js';
import {
  GobgpAlreadyExistsError,
  GobgpInUseError,
  GobgpNotStartedError,
  GobgpUnavailableError,
} from '../../bgp/gobgp-errors.js';
import { GobgpdSupervisor } from '../../bgp/gobgpd-process.js';
import { silentLogger } from '../../felix/log.js';
import {
  addNetns,
  createVethPair,
  deleteNetns,
  ip,
  isRunning,
  listNetns,
  listProcesses,
  type ProcessRef,
  refFor,
  terminate,
} from '../../kernel/index.js';
import { isRoot, ROOT_REASON, uniqueName } from '../helpers.js';

const GOBGPD = '/usr/bin/gobgpd';
const A_IP = '198.18.249.1';
const B_IP = '198.18.249.2';
const A_IP6 = 'fd00:249::1';
const B_IP6 = 'fd00:249::2';
const ASN = 64512;

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

describe.skipIf(!isRoot || !existsSync(GOBGPD))(
  `gobgp client and supervisor on gobgpd (${ROOT_REASON})`,
  () => {
    const name = uniqueName('tgb');
    const nsA = `${name}-a`;
    const nsB = `${name}-b`;
    let dir = '';
    let supA: GobgpdSupervisor | undefined;
    let supB: GobgpdSupervisor | undefined;
    let a: GobgpClient;
    let b: GobgpClient;
    const watches: WatchHandle[] = [];
    const seenA: WatchMessage[] = [];
    const seenB: WatchMessage[] = [];
    const pids: ProcessRef[] = [];
    let restartsA = 0;

    const peerOfA: PeerConfig = {
      address: B_IP,
      asn: ASN,
      description: 'tabby node b',
      password: 'tgb-s3cret',
      localAddress: A_IP,
      holdTime: 9,
      keepaliveInterval: 3,
      connectRetry: 5,
      gracefulRestart: { restartTime: 120, localRestarting: false },
      families: [4],
    };
    const peerOfB: PeerConfig = {
      address: A_IP,
      asn: ASN,
      description: 'tabby node a',
      password: 'tgb-s3cret',
      holdTime: 9,
      keepaliveInterval: 3,
      connectRetry: 5,
      families: [4],
      maxPrefixes: 3,
    };
    /** IPv6 on its own session (over IPv4, gobgpd would put an IPv4 next hop on IPv6 routes). */
    const v6Peer = (address: string, description: string, maxPrefixes?: number): PeerConfig => ({
      address,
      asn: ASN,
      description,
      holdTime: 9,
      keepaliveInterval: 3,
      connectRetry: 5,
      families: [6],
      ...(maxPrefixes ? { maxPrefixes } : {}),
    });
    const peerOf = async (c: GobgpClient, address: string) =>
      (await c.listPeers({ advertised: true })).find((p) => p.config.address === address);

    const bestOn = (seen: WatchMessage[], prefix: string) =>
      seen.flatMap((m) => (m.kind === 'best' ? m.paths.filter((p) => p.prefix === prefix) : [])).at(-1);

    /** gobgpd processes started for this test (their API socket lives in our temp dir). */
    const ours = () => listProcesses().filter((p) => p.comm === 'gobgpd' && dir && p.cmdline.includes(dir));

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tabby-gobgp-'));
      try {
        await addNetns(nsA);
        await addNetns(nsB);
        await createVethPair({ netns: nsA, name: 'gb0' }, { netns: nsB, name: 'gb0' });
        await ip(
          nsA,
          ['-batch', '-'],
          `link set gb0 up\naddress add ${A_IP}/30 dev gb0\naddress add ${A_IP6}/64 dev gb0 nodad\n`,
        );
        await ip(
          nsB,
          ['-batch', '-'],
          `link set gb0 up\naddress add ${B_IP}/30 dev gb0\naddress add ${B_IP6}/64 dev gb0 nodad\n`,
        );
        const log = silentLogger();
        supA = new GobgpdSupervisor({
          mode: 'spawn',
          netns: nsA,
          apiAddress: `unix://${dir}/a.sock`,
          logFile: join(dir, 'a.log'),
          log,
          onRestart: () => restartsA++,
        });
        supB = new GobgpdSupervisor({ mode: 'spawn', netns: nsB, apiAddress: `unix://${dir}/b.sock`, log });
        await Promise.all([supA.start(), supB.start()]);
        a = new GobgpClient({ target: supA.apiAddress, log });
        b = new GobgpClient({ target: supB.apiAddress, log });
      } catch (e) {
        await cleanup();
        throw e;
      }
    });

    async function cleanup(): Promise<void> {
      for (const w of watches.splice(0)) w.stop();
      a?.close();
      b?.close();
      await supA?.stop().catch(() => {});
      await supB?.stop().catch(() => {});
      // Whatever survived a failure: our gobgpds are the ones whose socket is in our dir.
      await terminate(
        ours().map((p) => refFor(p.pid, 'gobgpd')),
        2_000,
      );
      await deleteNetns(nsA).catch(() => {});
      await deleteNetns(nsB).catch(() => {});
      if (dir) rmSync(dir, { recursive: true, force: true });
    }

    afterAll(async () => {
      await cleanup();
      expect((await listNetns()).filter((n) => n.startsWith(`${name}-`))).toEqual([]);
      expect(pids.filter(isRunning)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    });

    it('runs gobgpd itself in each namespace (our child is gobgpd, not a wrapper), BGP not started', async () => {
      for (const sup of [supA, supB]) {
        const pid = sup?.pid;
        expect(pid).toBeTypeOf('number');
        const p = listProcesses().find((x) => x.pid === pid);
        expect(p?.comm).toBe('gobgpd');
        expect(p?.cmdline).toContain('--pprof-disable');
        pids.push(refFor(pid as number, 'gobgpd'));
      }
      expect(await a.getGlobal()).toBeUndefined();
      await expect(a.listBestPaths(4)).rejects.toBeInstanceOf(GobgpNotStartedError);
      watches.push(a.watch((m) => seenA.push(m)));
      watches.push(b.watch((m) => seenB.push(m)));
      await until('the first reset on A', () => seenA.some((m) => m.kind === 'reset'));
    });

    it('starts BGP', async () => {
      await a.startBgp({ asn: ASN, routerId: A_IP, listenPort: 179, listenAddresses: [A_IP, A_IP6] });
      await b.startBgp({ asn: ASN, routerId: B_IP, listenPort: 179, listenAddresses: [B_IP, B_IP6] });
      expect(await a.getGlobal()).toEqual({
        asn: ASN,
        routerId: A_IP,
        listenPort: 179,
        listenAddresses: [A_IP, A_IP6],
      });
      expect(await b.listPeers()).toEqual([]);
    });

    it('a new watch gets the table dump right after its reset, even an empty one', async () => {
      const fresh: WatchMessage[] = [];
      const w = a.watch((m) => fresh.push(m));
      try {
        await until('the dump', () => fresh.some((m) => m.kind === 'best'));
      } finally {
        w.stop();
      }
      expect(fresh).toEqual([{ kind: 'reset' }, { kind: 'best', paths: [] }]);
    });

    it('round-trips defined sets, policies and assignments', async () => {
      const own4 = {
        type: 'prefix' as const,
        name: 'own4',
        prefixes: [{ prefix: '10.244.1.0/24', minLength: 24, maxLength: 32 }],
      };
      // Prefix sets are single-family in gobgpd.
      const own6 = {
        type: 'prefix' as const,
        name: 'own6',
        prefixes: [{ prefix: 'fd00:244::/32', minLength: 32, maxLength: 128 }],
      };
      const peers = { type: 'neighbor' as const, name: 'peers', addresses: [B_IP, B_IP6] };
      await a.addDefinedSet(own4);
      await a.addDefinedSet(own6);
      await a.addDefinedSet(peers);
      await expect(a.addDefinedSet(own4)).rejects.toBeInstanceOf(GobgpAlreadyExistsError);
      expect(await a.listDefinedSets()).toEqual([own4, own6, peers]);

      const exportOwn = {
        name: 'export-own',
        statements: [
          { name: 'own', conditions: { prefixSet: 'own4' }, action: 'accept' as const },
          { name: 'own6', conditions: { prefixSet: 'own6' }, action: 'accept' as const },
        ],
      };
      const importNode = {
        name: 'import-node',
        statements: [
          { name: 'accept-local', conditions: { routeType: 'local' as const }, action: 'accept' as const },
          {
            name: 'no-hijack',
            conditions: { prefixSet: 'own4', neighborSet: 'peers' },
            action: 'reject' as const,
          },
        ],
      };
      const exportAll = {
        name: 'export-all',
        // Same statement name as export-own's: statement names are global in gobgpd, tabby's are per policy.
        statements: [{ name: 'own', conditions: { routeType: 'local' as const }, action: 'accept' as const }],
      };
      for (const p of [exportOwn, importNode, exportAll]) await a.addPolicy(p);
      await expect(a.addPolicy(exportAll)).rejects.toBeInstanceOf(GobgpAlreadyExistsError);
      const byName = (ps: { name: string }[]) => [...ps].sort((x, y) => x.name.localeCompare(y.name));
      expect(byName(await a.listPolicies())).toEqual(byName([exportOwn, importNode, exportAll]));

      expect(await a.getPolicyAssignment('export')).toEqual({
        direction: 'export',
        policies: [],
        defaultAction: 'accept',
      });
      await a.setPolicyAssignment({ direction: 'export', policies: ['export-all'], defaultAction: 'reject' });
      await a.setPolicyAssignment({ direction: 'export', policies: ['export-own'], defaultAction: 'reject' });
      await a.setPolicyAssignment({
        direction: 'import',
        policies: ['import-node'],
        defaultAction: 'accept',
      });
      expect(await a.getPolicyAssignment('export')).toEqual({
        direction: 'export',
        policies: ['export-own'],
        defaultAction: 'reject',
      });
      expect(await a.getPolicyAssignment('import')).toEqual({
        direction: 'import',
        policies: ['import-node'],
        defaultAction: 'accept',
      });

      // In use: assigned policies (IMPORT too, which gobgpd itself would delete) and referenced sets.
      await expect(a.deletePolicy('import-node')).rejects.toBeInstanceOf(GobgpInUseError);
      await expect(a.deletePolicy('export-own')).rejects.toBeInstanceOf(GobgpInUseError);
      await expect(a.deleteDefinedSet('prefix', 'own4')).rejects.toBeInstanceOf(GobgpInUseError);
      await a.deletePolicy('export-all');
      expect(byName(await a.listPolicies()).map((p) => p.name)).toEqual(['export-own', 'import-node']);
    });

    it('brings sessions with fast timers, MD5 and GR up, and reads the peers back', async () => {
      const watched = seenB.length;
      await a.addPeer(peerOfA);
      await b.addPeer(peerOfB);
      await a.addPeer(v6Peer(B_IP6, 'b v6'));
      await b.addPeer(v6Peer(A_IP6, 'a v6', 3));
      await expect(b.addPeer(peerOfB)).rejects.toBeInstanceOf(GobgpAlreadyExistsError);
      await until('all sessions established', async () => {
        const xs = [...(await a.listPeers()), ...(await b.listPeers())];
        return xs.length === 4 && xs.every((x) => x.state === 'established');
      });
      const pa = (await peerOf(a, B_IP)) as PeerStatus;
      const pb = (await peerOf(b, A_IP)) as PeerStatus;
      expect(pa.config).toEqual(peerOfA);
      expect(pa.adminState).toBe('up');
      expect(pa.establishedSince).toBeInstanceOf(Date);
      expect(Math.abs(Date.now() - (pa.establishedSince?.getTime() ?? 0))).toBeLessThan(60_000);
      // While Established, gobgpd reports the session's source address even when none was configured.
      expect(pb.config).toEqual({ ...peerOfB, localAddress: B_IP });
      expect(seenB.slice(watched)).toContainEqual({
        kind: 'peer',
        address: A_IP,
        state: 'established',
        adminState: 'up',
      });
    });

    it('originates on A, sees the best path event on B with A as next hop, then the withdraw', async () => {
      await a.addPaths(4, [
        { prefix: '10.244.1.0/26', communities: ['64512:100'] },
        { prefix: '10.250.0.0/24' }, // not in own4: A's export policy keeps it home
      ]);
      expect(await a.listLocalPaths(4)).toEqual([
        { prefix: '10.244.1.0/26', communities: ['64512:100'] },
        { prefix: '10.250.0.0/24' },
      ]);
      await a.addPaths(6, [{ prefix: 'fd00:244:1::/64' }]);
      expect(await a.listLocalPaths(6)).toEqual([{ prefix: 'fd00:244:1::/64' }]);
      const best = await until('the best event on B', () => bestOn(seenB, '10.244.1.0/26'));
      expect(best).toEqual({ family: 4, prefix: '10.244.1.0/26', nextHops: [A_IP], local: false });
      expect(await b.listBestPaths(4)).toEqual([best]);
      const best6 = await until('the IPv6 best event on B', () => bestOn(seenB, 'fd00:244:1::/64'));
      expect(best6).toEqual({ family: 6, prefix: 'fd00:244:1::/64', nextHops: [A_IP6], local: false });
      expect(await b.listBestPaths(6)).toEqual([best6]);
      expect((await a.listBestPaths(4)).map((p) => [p.prefix, p.local])).toEqual([
        ['10.244.1.0/26', true],
        ['10.250.0.0/24', true],
      ]);
      expect((await peerOf(a, B_IP))?.advertised).toBeGreaterThanOrEqual(1);
      expect(await peerOf(b, A_IP)).toMatchObject({ received: 1, accepted: 1 });

      await a.deletePaths(4, ['10.244.1.0/26']);
      await a.deletePaths(6, ['fd00:244:1::/64']);
      await a.deletePaths(4, []); // nothing: never "delete every local path"
      await until('the withdraw on B', () => bestOn(seenB, '10.244.1.0/26')?.nextHops.length === 0);
      await until('the IPv6 withdraw on B', () => bestOn(seenB, 'fd00:244:1::/64')?.nextHops.length === 0);
      expect(await b.listBestPaths(4)).toEqual([]);
      expect(await b.listBestPaths(6)).toEqual([]);
      expect(await a.listLocalPaths(4)).toEqual([{ prefix: '10.250.0.0/24' }]);
    });

    it('shuts a session down at the max-prefix limit (pfx_ct) until enablePeer', async () => {
      await a.addPaths(
        6,
        ['fd00:244:1::/64', 'fd00:244:2::/64', 'fd00:244:3::/64', 'fd00:244:4::/64'].map((prefix) => ({
          prefix,
        })),
      );
      const p = await until('pfx_ct on B', async () => {
        const x = await peerOf(b, A_IP6);
        // the admin state flips a moment before the session leaves Established
        return x?.adminState === 'pfx_ct' && x.state !== 'established' ? x : undefined;
      });
      expect(p.state).not.toBe('established');
      expect(seenB).toContainEqual(
        expect.objectContaining({ kind: 'peer', address: A_IP6, adminState: 'pfx_ct' }),
      );
      expect((await peerOf(b, A_IP))?.state).toBe('established'); // the IPv4 session is another one
      await b.softResetPeer('all', 'in');
      await b.enablePeer(A_IP6);
      await until('B admin up again', async () => (await peerOf(b, A_IP6))?.adminState === 'up');
    });

    it('updates a peer (UpdatePeer re-creates the neighbor: the session drops)', async () => {
      const changed = { ...peerOfB, description: 'tabby node a (renamed)', maxPrefixes: 100 };
      const watched = seenB.length;
      await b.updatePeer(changed);
      const p = await peerOf(b, A_IP);
      expect(p?.config).toMatchObject({ description: 'tabby node a (renamed)', maxPrefixes: 100 });
      expect(p?.config.password).toBe(peerOfB.password);
      // gobgpd 3.10 compares the stored (defaulted) config with the request's undefaulted one.
      await until('the session to drop', () =>
        seenB
          .slice(watched)
          .some((m) => m.kind === 'peer' && m.address === A_IP && m.state !== 'established'),
      );
    });

    it('restarts gobgpd after kill -9: onRestart, BGP not started again, the watch resubscribes', async () => {
      const old = supA?.pid as number;
      const resets = seenA.filter((m) => m.kind === 'reset').length;
      process.kill(old, 'SIGKILL');
      await until('the restart', () => supA?.restarts === 1 && supA.state === 'running');
      expect(restartsA).toBe(1);
      expect(supA?.pid).not.toBe(old);
      pids.push(refFor(supA?.pid as number, 'gobgpd'));
      const global = await until('A answers again', async () => {
        try {
          return { g: await a.getGlobal() };
        } catch (e) {
          if (e instanceof GobgpUnavailableError) return undefined;
          throw e;
        }
      });
      expect(global.g).toBeUndefined();
      await until('a new reset on A', () => seenA.filter((m) => m.kind === 'reset').length > resets);
      // The stream to the dead gobgpd ended with a `down` before the new reset.
      const kinds = seenA.map((m) => m.kind);
      expect(kinds.lastIndexOf('down')).toBeGreaterThan(-1);
      expect(kinds.lastIndexOf('down')).toBeLessThan(kinds.lastIndexOf('reset'));
      // Both gobgpds' output went to the log file.
      expect(readFileSync(join(dir, 'a.log'), 'utf8').match(/"msg":"gobgpd started"/g)).toHaveLength(2);
    });

    it('stops: SIGTERM, no gobgpd left', async () => {
      await supA?.stop();
      await supB?.stop();
      expect(supA?.state).toBe('stopped');
      expect(pids.filter(isRunning)).toEqual([]);
      expect(ours()).toEqual([]);
      await expect(a.getGlobal()).rejects.toBeInstanceOf(GobgpUnavailableError);
    });
  },
);
