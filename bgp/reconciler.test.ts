import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LogEntry, recordingLog } from '../felix/fake-log.js';
import type { DesiredBgp, DesiredPeer } from './desired-types.js';
import { FakeGobgp, type GobgpMethod } from './fake-gobgp.js';
import { GobgpError } from './gobgp-errors.js';
import { BgpReconciler } from './reconciler.js';

const peer = (address: string, over: Partial<DesiredPeer> = {}): DesiredPeer => ({
  kind: 'mesh',
  source: `node-${address}`,
  address,
  asn: 64512,
  description: `tabby mesh node-${address}`,
  holdTime: 9,
  keepaliveInterval: 3,
  connectRetry: 5,
  gracefulRestart: { restartTime: 120, localRestarting: false },
  families: [4],
  ...over,
});

/** A node's desired BGP; `v` versions the import policy and its set (their names carry it). */
function desired(over: Partial<DesiredBgp> = {}, v = 'aaaa'): DesiredBgp {
  return {
    global: { asn: 64512, routerId: '10.10.0.1', listenPort: 179, listenAddresses: ['0.0.0.0', '::'] },
    peers: [peer('10.10.0.2')],
    definedSets: [
      {
        type: 'prefix',
        name: 'tabby-own4-1111',
        prefixes: [{ prefix: '10.244.1.0/26', minLength: 26, maxLength: 26 }],
      },
      {
        type: 'prefix',
        name: `tabby-own4-orlonger-${v}`,
        prefixes: [{ prefix: '10.244.1.0/26', minLength: 26, maxLength: 32 }],
      },
    ],
    policies: [
      {
        name: `tabby-import-${v}`,
        statements: [
          { name: `tabby-import-${v}-local`, conditions: { routeType: 'local' }, action: 'accept' },
          {
            name: `tabby-import-${v}-own4`,
            conditions: { prefixSet: `tabby-own4-orlonger-${v}` },
            action: 'reject',
          },
        ],
      },
      {
        name: 'tabby-export-1111',
        statements: [
          { name: 'tabby-export-1111-own4', conditions: { prefixSet: 'tabby-own4-1111' }, action: 'accept' },
        ],
      },
    ],
    importAssignment: { direction: 'import', policies: [`tabby-import-${v}`], defaultAction: 'accept' },
    exportAssignment: { direction: 'export', policies: ['tabby-export-1111'], defaultAction: 'reject' },
    paths: { 4: ['10.244.1.0/26'], 6: ['fd00:244:1::/64'] },
    ownAddresses: ['10.10.0.1'],
    ...over,
  };
}

let api: FakeGobgp;
let logs: LogEntry[];
let r: BgpReconciler;

/** Lets due timers and the passes they start run to the end. */
const run = (ms = 0) => vi.advanceTimersByTimeAsync(ms);
const writes = () => api.writes().map((c) => c.method);
const writesOf = (method: GobgpMethod) => api.calls.filter((c) => c.method === method).map((c) => c.args);
const warnings = () => logs.filter((l) => l.level === 'warn').map((l) => String(l.msg));

function reconciler(timing: ConstructorParameters<typeof BgpReconciler>[0]['timing'] = {}): BgpReconciler {
  const { log, entries } = recordingLog();
  logs = entries;
  r = new BgpReconciler({ api, log, timing });
  return r;
}

/** A reconciler that has applied `d` once, with the call log cleared. */
async function applied(d: DesiredBgp = desired()): Promise<BgpReconciler> {
  reconciler().setDesired(d);
  await run();
  expect(r.status().lastPass?.ok).toBe(true);
  api.clearCalls();
  return r;
}

beforeEach(() => {
  vi.useFakeTimers();
  api = new FakeGobgp();
});

afterEach(async () => {
  await r?.stop();
  vi.useRealTimers();
});

describe('BgpReconciler: a pass', () => {
  it('starts BGP, then sets, policies, assignments, paths, peers, in that order, without reading back', async () => {
    reconciler().setDesired(desired());
    await run();
    expect(api.methods()).toEqual([
      'getGlobal',
      'startBgp',
      'addDefinedSet',
      'addDefinedSet',
      'addPolicy',
      'addPolicy',
      'setPolicyAssignment',
      'setPolicyAssignment',
      'addPaths',
      'addPaths',
      'addPeer',
    ]);
    expect(api.global?.asn).toBe(64512);
    expect([...api.localPaths[4].keys()]).toEqual(['10.244.1.0/26']);
    expect([...api.localPaths[6].keys()]).toEqual(['fd00:244:1::/64']);
    expect(api.assignments.import.policies).toEqual(['tabby-import-aaaa']);
    expect(api.assignments.export).toEqual(desired().exportAssignment);
    // kind and source are tabby's bookkeeping, not gobgpd's
    expect(api.peers.get('10.10.0.2')?.config).not.toHaveProperty('kind');
    expect(r.status()).toMatchObject({
      enabled: true,
      lastPass: { ok: true },
      failures: 0,
      peers: 1,
      paths: { 4: 1, 6: 1 },
      policies: { import: ['tabby-import-aaaa'], export: ['tabby-export-1111'] },
    });
  });

  it('a second pass over an unchanged state only reads', async () => {
    await applied();
    r.setDesired(desired());
    await run();
    expect(api.calls.length).toBeGreaterThan(0);
    expect(writes()).toEqual([]);
  });

  it('repairs drift at the periodic pass', async () => {
    await applied();
    api.localPaths[4].clear();
    api.peers.clear();
    await run(30_000);
    expect(writes()).toEqual(['addPaths', 'addPeer']);
  });

  it('replaces a changed import policy make-before-break, soft-resets in, and deletes the old one last', async () => {
    await applied();
    r.setDesired(desired({}, 'bbbb'));
    await run();
    expect(writes()).toEqual([
      'addDefinedSet',
      'addPolicy',
      'setPolicyAssignment',
      'softResetPeer',
      'deletePolicy',
      'deleteDefinedSet',
    ]);
    expect(writesOf('addDefinedSet')).toEqual([
      [expect.objectContaining({ name: 'tabby-own4-orlonger-bbbb' })],
    ]);
    expect(writesOf('setPolicyAssignment')).toEqual([[desired({}, 'bbbb').importAssignment]]);
    expect(writesOf('softResetPeer')).toEqual([['all', 'in']]);
    expect(writesOf('deletePolicy')).toEqual([['tabby-import-aaaa']]);
    expect(writesOf('deleteDefinedSet')).toEqual([['prefix', 'tabby-own4-orlonger-aaaa']]);
    expect([...api.policies.keys()].sort()).toEqual(['tabby-export-1111', 'tabby-import-bbbb']);
  });

  it('a changed export assignment needs no soft reset in; neither does a fresh start', async () => {
    await applied();
    const d = desired();
    r.setDesired({
      ...d,
      definedSets: d.definedSets.filter((s) => s.name !== 'tabby-own4-1111'),
      policies: d.policies.filter((p) => p.name !== 'tabby-export-1111'),
      exportAssignment: { direction: 'export', policies: [], defaultAction: 'reject' },
    });
    await run();
    expect(writes()).toEqual(['setPolicyAssignment', 'deletePolicy', 'deleteDefinedSet']);
    expect(writesOf('deletePolicy')).toEqual([['tabby-export-1111']]);
    expect(writesOf('deleteDefinedSet')).toEqual([['prefix', 'tabby-own4-1111']]);
  });

  it('retries a soft reset that failed, even though the assignment is in place by then', async () => {
    await applied();
    api.fail('softResetPeer');
    r.setDesired(desired({}, 'bbbb'));
    await run();
    expect(r.status().lastPass?.ok).toBe(false);
    api.clearCalls();
    await run(100);
    expect(writes()).toEqual(['softResetPeer', 'deletePolicy', 'deleteDefinedSet']);
    expect(r.status().lastPass?.ok).toBe(true);
  });

  it('deletes only tabby- policies and sets', async () => {
    await applied();
    await api.addDefinedSet({ type: 'neighbor', name: 'operator-tors', addresses: ['10.10.0.254/32'] });
    await api.addPolicy({
      name: 'operator-policy',
      statements: [{ name: 'operator-s', conditions: { neighborSet: 'operator-tors' }, action: 'accept' }],
    });
    await api.addDefinedSet({ type: 'prefix', name: 'tabby-leftover-9999', prefixes: [] });
    api.clearCalls();
    r.resync();
    await run();
    expect(api.writes()).toEqual([{ method: 'deleteDefinedSet', args: ['prefix', 'tabby-leftover-9999'] }]);
    expect(api.policies.has('operator-policy')).toBe(true);
  });

  it('withdraws extra paths by prefix and never calls deletePaths with an empty list', async () => {
    await applied();
    await api.addPaths(4, [{ prefix: '10.244.9.0/26' }]);
    api.clearCalls();
    r.resync(); // a path nobody asked for is found by a full listing (resync, or every 10th pass)
    r.setDesired(desired({ paths: { 4: ['10.244.1.0/26', '10.244.1.64/26'], 6: [] } }));
    await run();
    expect(api.writes()).toEqual([
      { method: 'addPaths', args: [4, [{ prefix: '10.244.1.64/26' }]] },
      { method: 'deletePaths', args: [4, ['10.244.9.0/26']] },
      { method: 'deletePaths', args: [6, ['fd00:244:1::/64']] },
    ]);
    r.setDesired(desired({ paths: { 4: [], 6: [] } }));
    await run();
    r.setDesired(desired({ paths: { 4: [], 6: [] } }));
    await run();
    expect(writesOf('deletePaths').every(([, prefixes]) => (prefixes as string[]).length > 0)).toBe(true);
    expect(api.localPaths[4].size + api.localPaths[6].size).toBe(0);
  });

  it('asks gobgpd only about its own and wanted paths between full listings', async () => {
    await applied();
    api.clearCalls();
    r.setDesired(desired({ paths: { 4: ['10.244.1.0/26', '10.244.1.64/26'], 6: [] } }));
    await run();
    const lists = api.calls.filter((c) => c.method === 'listLocalPaths').map((c) => c.args);
    expect(lists).toEqual([
      [4, ['10.244.1.0/26', '10.244.1.64/26']],
      [6, ['fd00:244:1::/64']],
    ]);
  });

  it('restarts BGP when asn, router id or listen port change, and re-applies everything', async () => {
    await applied();
    const d = desired({ global: { ...desired().global, routerId: '10.10.0.9' } });
    r.setDesired(d);
    await run();
    expect(writes()).toEqual([
      'stopBgp',
      'startBgp',
      'addDefinedSet',
      'addDefinedSet',
      'addPolicy',
      'addPolicy',
      'setPolicyAssignment',
      'setPolicyAssignment',
      'addPaths',
      'addPaths',
      'addPeer',
    ]);
    expect(api.global?.routerId).toBe('10.10.0.9');
    expect(warnings()).toContain(
      'BGP global settings changed: restarting BGP (sessions drop, everything is re-applied)',
    );
  });

  it('calls onBgpRestart right before StopBgp, and re-adds the peers with localRestarting', async () => {
    const order: string[] = [];
    const { log, entries } = recordingLog();
    logs = entries;
    r = new BgpReconciler({
      api,
      log,
      onBgpRestart: () => order.push(`onBgpRestart after ${api.methods().at(-1)}`),
    });
    r.setDesired(desired({ peers: [peer('10.10.0.2'), peer('10.10.0.3', { gracefulRestart: undefined })] }));
    await run();
    expect(order).toEqual([]); // a first start is no restart
    api.clearCalls();
    r.setDesired(
      desired({
        global: { ...desired().global, asn: 65001 },
        peers: [peer('10.10.0.2'), peer('10.10.0.3', { gracefulRestart: undefined })],
      }),
    );
    await run();
    expect(order).toEqual(['onBgpRestart after getGlobal']);
    expect(writes()[0]).toBe('stopBgp');
    expect(writesOf('addPeer')).toEqual([
      [
        expect.objectContaining({
          address: '10.10.0.2',
          gracefulRestart: { restartTime: 120, localRestarting: true },
        }),
      ],
      [expect.not.objectContaining({ gracefulRestart: expect.anything() })],
    ]);
    // The next passes do not touch the peers for that flag.
    api.clearCalls();
    await run(30_000);
    expect(writes()).toEqual([]);
    expect(api.peers.get('10.10.0.2')?.config.gracefulRestart?.localRestarting).toBe(true);
  });

  it('does not call onBgpRestart when gobgpd came back empty (nothing to stop)', async () => {
    let calls = 0;
    const { log } = recordingLog();
    r = new BgpReconciler({ api, log, onBgpRestart: () => calls++ });
    r.setDesired(desired());
    await run();
    api.restart();
    r.resync();
    await run();
    expect(calls).toBe(0);
    expect(writesOf('addPeer').at(-1)).toEqual([
      expect.objectContaining({ gracefulRestart: { restartTime: 120, localRestarting: false } }),
    ]);
  });

  it('re-applies everything after gobgpd restarted', async () => {
    await applied();
    api.restart();
    r.resync();
    await run();
    expect(writes()[0]).toBe('startBgp');
    expect(writes()).toHaveLength(10);
    expect(api.peers.has('10.10.0.2')).toBe(true);
    expect(api.assignments.import.policies).toEqual(['tabby-import-aaaa']);
    expect(api.localPaths[6].has('fd00:244:1::/64')).toBe(true);
  });

  it('notices a restarted gobgpd at the periodic pass even without resync()', async () => {
    await applied();
    api.restart();
    await run(30_000);
    expect(writes()[0]).toBe('startBgp');
    expect(api.peers.size).toBe(1);
  });
});

describe('BgpReconciler: peers', () => {
  it('adds, updates and deletes peers by address', async () => {
    await applied(desired({ peers: [peer('10.10.0.2'), peer('10.10.0.3')] }));
    r.setDesired(desired({ peers: [peer('10.10.0.2', { holdTime: 30 }), peer('10.10.0.4')] }));
    await run();
    expect(writes()).toEqual(['addPeer', 'updatePeer', 'deletePeer']);
    expect(writesOf('addPeer')).toEqual([[expect.objectContaining({ address: '10.10.0.4' })]]);
    expect(writesOf('deletePeer')).toEqual([['10.10.0.3']]);
    expect(api.peers.get('10.10.0.2')?.config.holdTime).toBe(30);
    expect(logs.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual(
      expect.arrayContaining(['BGP peer added', 'BGP peer updated', 'BGP peer deleted']),
    );
  });

  it('a change of localRestarting alone does nothing; an update keeps the flag gobgpd has', async () => {
    await applied(
      desired({
        peers: [peer('10.10.0.2', { gracefulRestart: { restartTime: 120, localRestarting: true } })],
      }),
    );
    r.setDesired(desired());
    await run();
    expect(writes()).toEqual([]);
    r.setDesired(desired({ peers: [peer('10.10.0.2', { keepaliveInterval: 10 })] }));
    await run();
    expect(writesOf('updatePeer')).toEqual([
      [
        expect.objectContaining({
          keepaliveInterval: 10,
          gracefulRestart: { restartTime: 120, localRestarting: true },
        }),
      ],
    ]);
  });

  it('compares with what it applied, so a password gobgpd does not report is no change', async () => {
    api.reportsPasswords = false;
    await applied(desired({ peers: [peer('10.10.0.2', { password: 's3cret' })] }));
    r.setDesired(desired({ peers: [peer('10.10.0.2', { password: 's3cret' })] }));
    await run();
    expect(writes()).toEqual([]);
    r.setDesired(desired({ peers: [peer('10.10.0.2', { password: 'other' })] }));
    await run();
    expect(writes()).toEqual(['updatePeer']);
  });

  it('after resync() compares with what gobgpd reports: an unreadable password is re-applied once', async () => {
    api.reportsPasswords = false;
    await applied(desired({ peers: [peer('10.10.0.2', { password: 's3cret' })] }));
    r.resync();
    await run();
    expect(writes()).toEqual(['updatePeer']);
    api.clearCalls();
    r.resync();
    api.reportsPasswords = true; // a client that reads passwords back: nothing to re-apply
    await run();
    expect(writes()).toEqual([]);
  });

  it('after resync() a source address gobgpd reports for an established session is no change', async () => {
    await applied();
    api.setPeerState('10.10.0.2', 'established');
    expect((await api.listPeers())[0]?.config.localAddress).toBe('10.10.0.1');
    api.clearCalls();
    r.resync();
    await run();
    expect(writes()).toEqual([]);
  });

  it('one failing peer does not hold up the others; the pass fails and is retried', async () => {
    await applied();
    api.fail('addPeer', { times: 2, match: ([p]) => (p as DesiredPeer).address === '10.10.0.3' });
    r.setDesired(desired({ peers: [peer('10.10.0.2'), peer('10.10.0.3'), peer('10.10.0.4')] }));
    await run();
    expect([...api.peers.keys()].sort()).toEqual(['10.10.0.2', '10.10.0.4']);
    expect(r.status()).toMatchObject({ lastPass: { ok: false }, failures: 1 });
    await run(100);
    expect(r.status().failures).toBe(2);
    await run(200);
    expect(r.status()).toMatchObject({ lastPass: { ok: true }, failures: 0, peers: 3 });
  });

  it('re-enables a peer shut down by its max-prefix limit only after the hold-down', async () => {
    await applied();
    api.setPeerState('10.10.0.2', 'idle', 'pfx_ct');
    await run(30_000); // the periodic pass sees it
    expect(writesOf('enablePeer')).toEqual([]);
    expect(warnings()).toContain(
      'BGP peer shut down by its max-prefix limit; re-enabled after the hold-down',
    );
    expect(r.status().heldDown).toEqual([{ address: '10.10.0.2', enableAt: expect.any(Date) }]);
    r.setDesired(desired()); // other passes meanwhile change nothing
    await run(4 * 60_000);
    expect(writesOf('enablePeer')).toEqual([]);
    await run(60_000);
    expect(writesOf('enablePeer')).toEqual([['10.10.0.2']]);
    expect(api.peers.get('10.10.0.2')?.adminState).toBe('up');
    expect(warnings()).toContain('BGP peer re-enabled after its max-prefix hold-down');
    expect(r.status().heldDown).toEqual([]);
  });
});

describe('BgpReconciler: scheduling', () => {
  it('retries a failed pass with backoff from 100 ms, doubling to 5 s', async () => {
    reconciler();
    api.fail('addPaths', { times: 7 });
    r.setDesired(desired());
    await run();
    expect(r.status()).toMatchObject({ lastPass: { ok: false }, failures: 1 });
    const passesAt = (ms: number) => {
      api.clearCalls();
      return run(ms).then(() => api.methods().filter((m) => m === 'getGlobal').length);
    };
    for (const delay of [100, 200, 400, 800, 1600, 3200, 5000]) {
      expect(await passesAt(delay - 1)).toBe(0);
      expect(await passesAt(1)).toBe(1);
    }
    expect(r.status()).toMatchObject({ lastPass: { ok: true }, failures: 0 });
    expect(warnings()).toEqual(['applying the BGP configuration failed; retrying']); // once, not per retry
    expect(logs.some((l) => l.msg === 'BGP configuration applied after failures')).toBe(true);
  });

  it('coalesces changes made during a pass into one more pass', async () => {
    reconciler();
    let release: () => void = () => {};
    const real = api.getGlobal.bind(api);
    const spy = vi.spyOn(api, 'getGlobal').mockImplementationOnce(async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return real();
    });
    r.setDesired(desired());
    await run();
    r.setDesired(desired({ paths: { 4: [], 6: [] } }));
    r.setDesired(desired({ paths: { 4: ['10.244.1.0/26'], 6: [] } }));
    r.resync();
    await run();
    expect(spy).toHaveBeenCalledTimes(1);
    release();
    await run();
    expect(spy).toHaveBeenCalledTimes(2);
    expect([...api.localPaths[6].keys()]).toEqual([]);
    expect(r.status().lastPass?.ok).toBe(true);
  });

  it('BGP off: withdraws every route and deletes every peer, but leaves BGP running', async () => {
    await applied(desired({ peers: [peer('10.10.0.2'), peer('10.10.0.3')] }));
    r.setDesired(undefined);
    await run();
    expect(writes()).toEqual(['deletePaths', 'deletePaths', 'deletePeer', 'deletePeer']);
    expect(api.global).toBeDefined();
    expect(r.status()).toMatchObject({ enabled: false, peers: 0, paths: { 4: 0, 6: 0 } });
    api.clearCalls();
    await run(30_000);
    expect(writes()).toEqual([]);
  });

  it('BGP off from the start does not start BGP', async () => {
    reconciler().setDesired(undefined);
    await run();
    expect(api.methods()).toEqual(['getGlobal']);
  });

  it('does nothing before the first setDesired, and nothing after stop()', async () => {
    reconciler().resync();
    await run(60_000);
    expect(api.calls).toEqual([]);
    r.setDesired(desired());
    await r.stop();
    await run(60_000);
    expect(api.calls).toEqual([]);
  });

  it('reports a failure in status()', async () => {
    reconciler();
    api.fail('startBgp', { error: new GobgpError('StartBgp', 2, 'invalid router-id format') });
    r.setDesired(desired());
    await run();
    expect(r.status().lastPass).toEqual({
      ok: false,
      at: expect.any(Date),
      error: 'gobgp StartBgp: invalid router-id format',
    });
  });
});
