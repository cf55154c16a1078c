// The API server's door into lab node namespaces. Agents run inside node namespaces (as a
// hostNetwork DaemonSet pod would) where the root namespace's loopback, and so the API server,
// is unreachable; a unix socket is a file, visible from every namespace. This relay accepts on
// a unix socket and pipes each connection to the API server's TCP port (TLS passes through
// untouched). The agent's `--apiserver-socket` flag uses it; production agents never do.
//
// Run as a daemon: node --import tsx lab/control-plane/api-bridge.ts <socket> <host:port>
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { relay } from '../../common/relay.js';

/** Relays `socketPath` → `host:port` until closed. */
export function startApiBridge(socketPath: string, host: string, port: number): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer((client: Socket) => relay(client, connect(port, host)));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [socketPath, target] = process.argv.slice(2);
  const m = /^(.+):(\d+)$/.exec(target ?? '');
  if (!socketPath || !m) {
    process.stderr.write('usage: api-bridge <socket> <host:port>\n');
    process.exit(2);
  }
  const server = await startApiBridge(socketPath, m[1] as string, Number(m[2]));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
