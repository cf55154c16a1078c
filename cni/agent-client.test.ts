// The agent client against a real unix socket server in a temp dir.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_TIMEOUT_MS, agentTimeoutMs, callAgent, STATUS_TIMEOUT_MS } from './agent-client.js';
import { CniError } from './errors.js';
import { type AgentRequest, type AgentVerb, DEFAULT_AGENT_SOCKET, PROTOCOL_VERSION } from './protocol.js';

const request = (verb: AgentVerb): AgentRequest => ({
  protocol: PROTOCOL_VERSION,
  verb,
  containerId: 'abc',
  ifname: 'eth0',
  netns: '/run/netns/x',
  conf: {
    network: 'k8s',
    cniVersion: '1.0.0',
    agentSocket: DEFAULT_AGENT_SOCKET,
    mtu: 0,
    ipam: { assignIpv4: true, assignIpv6: false, pools: [] },
  },
});

/** What the fake agent does with each connection, given the request line it read. */
type Behaviour = (socket: Socket, line: string) => void;

describe('agent client', () => {
  let dir: string;
  let n = 0;
  const servers: Server[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tabby-cni-client-'));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts a fake agent; resolves to its socket path and the request lines it received. */
  async function agent(behaviour: Behaviour): Promise<{ path: string; lines: string[] }> {
    const path = join(dir, `agent-${n++}.sock`);
    const lines: string[] = [];
    const server = createServer((socket) => {
      let buf = '';
      socket.setEncoding('utf8');
      socket.on('error', () => {});
      socket.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        behaviour(socket, line);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { path, lines };
  }

  const reply =
    (body: unknown): Behaviour =>
    (socket) =>
      socket.end(`${typeof body === 'string' ? body : JSON.stringify(body)}\n`);

  async function failure(p: Promise<unknown>): Promise<CniError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }

  it('sends one JSON line and returns the result, parsed', async () => {
    const result = {
      interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }],
      ips: [{ address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      dns: {},
    };
    const a = await agent(reply({ ok: true, result }));
    expect(await callAgent(a.path, request('ADD'))).toEqual(result);
    expect(a.lines.map((l) => JSON.parse(l))).toEqual([request('ADD')]);
  });

  it('resolves to undefined when the agent sends no result', async () => {
    const a = await agent(reply({ ok: true }));
    expect(await callAgent(a.path, request('DEL'))).toBeUndefined();
  });

  it('reads a reply split over several writes, and one without a newline before the close', async () => {
    const split = await agent((socket) => {
      socket.write('{"ok":');
      setTimeout(() => socket.end('true}\n{"ignored":1}\n'), 20);
    });
    expect(await callAgent(split.path, request('DEL'))).toBeUndefined();
    const unterminated = await agent((socket) => socket.end('{"ok":true}'));
    expect(await callAgent(unterminated.path, request('DEL'))).toBeUndefined();
  });

  it("passes the agent's error through with its code, message and details", async () => {
    const a = await agent(
      reply({ ok: false, error: { code: 101, msg: 'no pool selects node n1', details: 'pools: none' } }),
    );
    const e = await failure(callAgent(a.path, request('ADD')));
    expect(e.toBody()).toEqual({ code: 101, msg: 'no pool selects node n1', details: 'pools: none' });
  });

  it.each([
    ['not JSON', 'Internal Server Error', /not JSON/],
    ['no ok', { result: {} }, /expected \{"ok"/],
    ['a non-object', '[true]', /expected \{"ok"/],
    ['an error without code', { ok: false, error: { msg: 'x' } }, /error\.code/],
    ['an error with code 0', { ok: false, error: { code: 0, msg: 'x' } }, /error\.code/],
    ['an error without msg', { ok: false, error: { code: 7 } }, /error\.msg/],
    ['a bad result', { ok: true, result: { ips: [{ address: 'x' }] } }, /result\.ips\[0\]\.address/],
  ])('turns a malformed reply (%s) into code 100', async (_, body, details) => {
    const a = await agent(reply(body));
    const e = await failure(callAgent(a.path, request('ADD')));
    expect(e.code).toBe(100);
    expect(e.msg).toBe('tabby agent sent a malformed reply');
    expect(e.details).toMatch(details);
  });

  it('is "try again later" (11) naming the socket when the socket is missing, or 50 for STATUS', async () => {
    const path = join(dir, 'missing.sock');
    const e = await failure(callAgent(path, request('ADD')));
    expect(e.code).toBe(11);
    expect(e.msg).toBe(`tabby agent at ${path} is not reachable (ENOENT): try again later`);
    const s = await failure(callAgent(path, request('STATUS')));
    expect(s.code).toBe(50);
    expect(s.msg).toBe(`tabby agent at ${path} is not reachable (ENOENT): not ready`);
  });

  it('is 11 when the connection is refused', async () => {
    const path = join(dir, 'stale.sock');
    writeFileSync(path, '');
    const e = await failure(callAgent(path, request('DEL')));
    expect(e.code).toBe(11);
    expect(e.msg).toMatch(/ECONNREFUSED/);
  });

  it('is 11 (50 for STATUS) when the agent closes without answering', async () => {
    const a = await agent((socket) => socket.end());
    expect((await failure(callAgent(a.path, request('CHECK')))).msg).toMatch(
      /closed the connection without answering CHECK: try again later$/,
    );
    expect((await failure(callAgent(a.path, request('STATUS')))).code).toBe(50);
  });

  it('times out: 11 for ADD, 50 for STATUS', async () => {
    const a = await agent(() => {}); // reads, never answers
    const started = Date.now();
    const e = await failure(callAgent(a.path, request('ADD'), 150));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(e.code).toBe(11);
    expect(e.msg).toBe(`tabby agent at ${a.path} did not answer ADD within 0.15 s: try again later`);
    const s = await failure(callAgent(a.path, request('STATUS'), 150));
    expect(s.code).toBe(50);
  });

  it('waits 90 s for ADD/DEL/CHECK/GC and 5 s for STATUS by default', () => {
    expect(AGENT_TIMEOUT_MS).toBe(90_000);
    expect(STATUS_TIMEOUT_MS).toBe(5_000);
    for (const verb of ['ADD', 'DEL', 'CHECK', 'GC'] as const) expect(agentTimeoutMs(verb)).toBe(90_000);
    expect(agentTimeoutMs('STATUS')).toBe(5_000);
  });
});
