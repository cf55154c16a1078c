// Lab only (--apiserver-socket): a loopback TCP listener inside the agent's own namespace that
// pipes to a unix socket (lab/control-plane/api-bridge.ts relays it to the API server). The
// kubeconfig's server is pointed at it; TLS passes through, so the certificate still matches
// 127.0.0.1. Production agents (hostNetwork) reach the API server directly and never use this.

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server } from 'node:net';
import { relay } from '../common/relay.js';

export async function startApiTunnel(socketPath: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((client) => relay(client, connect(socketPath)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
