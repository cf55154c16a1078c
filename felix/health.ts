// /healthz (the process and its loops are alive) and /readyz (ready for CNI ADD) on a local
// port, for the DaemonSet's probes and for operators (`curl 127.0.0.1:9299/readyz`).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthSource {
  /** Undefined when live, else why not. */
  notLiveReason(): string | undefined;
  /** Undefined when ready, else why not. */
  notReadyReason(): string | undefined;
}

export class HealthServer {
  private server: Server | undefined;

  constructor(private readonly source: HealthSource) {}

  /** Listens; resolves to the bound port (useful with port 0). */
  async start(address: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const path = req.url?.split('?')[0];
      const reason =
        path === '/healthz'
          ? this.source.notLiveReason()
          : path === '/readyz'
            ? this.source.notReadyReason()
            : 'not found: /healthz or /readyz';
      const code = reason === undefined ? 200 : path === '/healthz' || path === '/readyz' ? 503 : 404;
      res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(reason === undefined ? 'ok\n' : `${reason}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
