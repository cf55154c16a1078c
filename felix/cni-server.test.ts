import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentRequest, type AgentResponse, CNI_ERROR, PROTOCOL_VERSION } from '../cni/protocol.js';
import { CniServer, type Handler } from './cni-server.js';
import { silentLogger } from './log.js';

/** Sends `payload` as is; resolves with everything the server wrote once the connection closed. */
function exchange(path: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
    });
    // A server that answers before reading everything may reset the rest of our write.
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    s.on('close', () => resolve(out));
    s.write(payload);
  });
}

async function call(path: string, payload: string): Promise<AgentResponse> {
  const out = await exchange(path, payload);
  expect(out.endsWith('\n')).toBe(true);
  expect(out.indexOf('\n')).toBe(out.length - 1); // exactly one line
  return JSON.parse(out) as AgentResponse;
}

const request: AgentRequest = {
  protocol: PROTOCOL_VERSION,
  verb: 'STATUS',
  conf: {
    network: 'k8s-pod-network',
    cniVersion: '1.1.0',
    agentSocket: '',
    mtu: 0,
    ipam: { assignIpv4: true, assignIpv6: false, pools: [] },
  },
};

const codeOf = (res: AgentResponse) => (res.ok ? undefined : res.error.code);

describe('CniServer', () => {
  let dir: string;
  let path: string;
  const servers: CniServer[] = [];

  const server = (handler: Handler = async () => ({ ok: true })) => {
    const s = new CniServer(path, handler, silentLogger());
    servers.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tabby-cni-server-'));
    path = join(dir, 'run', 'cni.sock');
  });

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket 0600 (in a 0700 directory)', async () => {
    await server().start();
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
  });

  it('answers one JSON line with the handler’s response line, then closes', async () => {
    const seen: AgentRequest[] = [];
    const result = {
      interfaces: [{ name: 'eth0' }],
      ips: [{ address: '10.244.1.7/32' }],
      routes: [],
      dns: {},
    };
    await server(async (req) => {
      seen.push(req);
      return { ok: true, result };
    }).start();
    await expect(call(path, `${JSON.stringify(request)}\n`)).resolves.toEqual({ ok: true, result });
    expect(seen).toEqual([request]);
  });

  it('reads a request split over several writes', async () => {
    const seen: AgentRequest[] = [];
    await server(async (req) => {
      seen.push(req);
      return { ok: true };
    }).start();
    const line = `${JSON.stringify(request)}\n`;
    const res = await new Promise<string>((resolve, reject) => {
      const s = connect(path);
      let out = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        out += d;
      });
      s.on('error', reject);
      s.on('close', () => resolve(out));
      s.write(line.slice(0, 10));
      setTimeout(() => s.write(line.slice(10)), 20);
    });
    expect(JSON.parse(res)).toEqual({ ok: true });
    expect(seen).toEqual([request]);
  });

  it('answers malformed JSON with code 6 without calling the handler', async () => {
    let called = false;
    await server(async () => {
      called = true;
      return { ok: true };
    }).start();
    const res = await call(path, '{"protocol": 1, \n');
    expect(codeOf(res)).toBe(CNI_ERROR.decodeFailure);
    expect(res.ok ? '' : res.error.msg).toMatch(/^agent request: /);
    expect(called).toBe(false);
  });

  it('answers a request over 1 MiB with code 6 and closes the connection', async () => {
    let called = false;
    await server(async () => {
      called = true;
      return { ok: true };
    }).start();
    // No newline: the server must not wait for one.
    const res = await call(path, 'x'.repeat((1 << 20) + 16));
    expect(res).toEqual({
      ok: false,
      error: { code: CNI_ERROR.decodeFailure, msg: 'agent request: larger than 1 MiB' },
    });
    expect(called).toBe(false);
  });

  it('answers code 100 when the handler throws', async () => {
    await server(async () => {
      throw new Error('boom');
    }).start();
    const res = await call(path, `${JSON.stringify(request)}\n`);
    expect(codeOf(res)).toBe(CNI_ERROR.internal);
    expect(res.ok ? '' : res.error.msg).toContain('boom');
  });

  it('serves connections concurrently', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    await server(async (req) => {
      if (req.verb === 'ADD') await gate;
      return { ok: true };
    }).start();
    const slow = call(path, `${JSON.stringify({ ...request, verb: 'ADD' })}\n`);
    await expect(call(path, `${JSON.stringify(request)}\n`)).resolves.toEqual({ ok: true });
    release();
    await expect(slow).resolves.toEqual({ ok: true });
  });

  it('refuses to start when another live server listens on the path', async () => {
    await server().start();
    await expect(server().start()).rejects.toThrow(/another tabby agent is already listening/);
    // The first one is untouched.
    await expect(call(path, `${JSON.stringify(request)}\n`)).resolves.toEqual({ ok: true });
  });

  it('replaces a stale socket file', async () => {
    await server().start(); // creates the directory
    await servers.pop()?.stop();
    // A socket file nobody listens on (as left by a killed agent): listen elsewhere, move the
    // file into place, close (libuv unlinks only the original path).
    const elsewhere = join(dir, 'stale.sock');
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(elsewhere, () => r()));
    renameSync(elsewhere, path);
    await new Promise<void>((r) => dead.close(() => r()));
    expect(statSync(path).isSocket()).toBe(true);
    await expect(exchange(path, '')).rejects.toThrow(/ECONNREFUSED/);

    await server(async () => ({ ok: false, error: { code: 50, msg: 'fresh' } })).start();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await expect(call(path, `${JSON.stringify(request)}\n`)).resolves.toEqual({
      ok: false,
      error: { code: 50, msg: 'fresh' },
    });
  });

  it('replaces a stale regular file at the path', async () => {
    await server().start();
    await servers.pop()?.stop();
    writeFileSync(path, 'left over');
    await server().start();
    expect(statSync(path).isSocket()).toBe(true);
  });

  it('stop() removes the socket file it created, and is idempotent', async () => {
    const s = server();
    await s.start();
    await s.stop();
    expect(() => statSync(path)).toThrow(/ENOENT/);
    await s.stop();
    await server().stop(); // never started
  });

  it('stop() lets a request in flight finish', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    let finished = false;
    const s = server(async () => {
      entered();
      await gate;
      finished = true;
      return { ok: true };
    });
    await s.start();
    const pending = exchange(path, `${JSON.stringify(request)}\n`);
    await inHandler;
    await s.stop();
    release();
    await pending; // the connection was cut; the handler still ran to completion
    await new Promise((r) => setTimeout(r, 10));
    expect(finished).toBe(true);
  });

  // libuv unlinks a listening pipe's bound path on close: the server binds a private name and
  // renames it into place, so an older server's stop() cannot remove a newer server's socket.
  it('stop() leaves a socket another server created at the path meanwhile', async () => {
    const old = server();
    await old.start();
    renameSync(path, join(dir, 'old.sock')); // keeps the old inode allocated
    const next = server();
    await next.start();
    const nextIno = statSync(path).ino;
    await old.stop();
    expect(statSync(path).ino).toBe(nextIno);
  });
});
