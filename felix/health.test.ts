import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthServer, type HealthSource } from './health.js';

function get(
  port: number,
  path: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HealthServer', () => {
  const state: { live?: string; ready?: string } = {};
  const source: HealthSource = {
    notLiveReason: () => state.live,
    notReadyReason: () => state.ready,
  };
  let server: HealthServer | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    delete state.live;
    delete state.ready;
  });

  const start = async () => {
    server = new HealthServer(source);
    const port = await server.start('127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
    return port;
  };

  it('answers 200 ok on /healthz and /readyz when live and ready', async () => {
    const port = await start();
    await expect(get(port, '/healthz')).resolves.toEqual({ status: 200, type: 'text/plain', body: 'ok\n' });
    await expect(get(port, '/readyz')).resolves.toEqual({ status: 200, type: 'text/plain', body: 'ok\n' });
    await expect(get(port, '/readyz?verbose=1')).resolves.toMatchObject({ status: 200, body: 'ok\n' });
  });

  it('answers 503 with the reason, each probe asking its own question', async () => {
    const port = await start();
    state.ready = 'datastore not synced yet';
    await expect(get(port, '/readyz')).resolves.toMatchObject({
      status: 503,
      body: 'datastore not synced yet\n',
    });
    await expect(get(port, '/healthz')).resolves.toMatchObject({ status: 200, body: 'ok\n' });

    state.live = 'route reconciler stuck';
    delete state.ready;
    await expect(get(port, '/healthz')).resolves.toMatchObject({
      status: 503,
      body: 'route reconciler stuck\n',
    });
    await expect(get(port, '/readyz')).resolves.toMatchObject({ status: 200, body: 'ok\n' });
  });

  it('answers 404 on any other path, whatever the state', async () => {
    const port = await start();
    for (const path of ['/', '/metrics', '/healthz/', '/readyzx']) {
      await expect(get(port, path)).resolves.toMatchObject({
        status: 404,
        body: 'not found: /healthz or /readyz\n',
      });
    }
    state.live = 'dead';
    await expect(get(port, '/nope')).resolves.toMatchObject({ status: 404 });
  });

  it('stop() closes the port and is idempotent', async () => {
    const port = await start();
    await server?.stop();
    await expect(get(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    await server?.stop();
  });

  it('start() rejects when the port is taken', async () => {
    const port = await start();
    const other = new HealthServer(source);
    await expect(other.start('127.0.0.1', port)).rejects.toThrow(/EADDRINUSE/);
  });
});
