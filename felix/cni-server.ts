// The agent's CNI endpoint: a unix socket only root can open (directory 0700, socket 0600). One
// JSON line per request, one per response, then the connection closes. Refuses to start when
// another live agent already answers on the socket; a stale socket file is replaced.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { type AgentRequest, type AgentResponse, CNI_ERROR } from '../cni/protocol.js';
import type { Log } from './log.js';

const MAX_REQUEST_BYTES = 1 << 20;

export type Handler = (req: AgentRequest) => Promise<AgentResponse>;

export class CniServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Inode of the socket file this server created: only that file is ever removed. */
  private inode: number | undefined;

  constructor(
    readonly path: string,
    private readonly handle: Handler,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    if (existsSync(this.path) && (await answers(this.path))) {
      throw new Error(`${this.path}: another tabby agent is already listening`);
    }
    // Bound under a private name, then renamed into place: the switch from a stale file is
    // atomic, and libuv's unlink-on-close hits the private name, never a path that a newer
    // agent may own by then.
    const bound = `${this.path}.${process.pid}`;
    rmSync(bound, { force: true });
    const server = createServer((s) => this.serve(s));
    // Created 0600 from the start (no window where another user could connect).
    const mask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(bound, () => resolve());
      });
    } finally {
      process.umask(mask);
    }
    chmodSync(bound, 0o600);
    renameSync(bound, this.path);
    this.inode = statSync(this.path).ino;
    this.server = server;
  }

  /** Stops accepting; requests in flight finish (their handlers keep running to completion). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // A new agent may already own the path (an overlapping rollout): leave its socket alone.
    const mine = this.inode !== undefined && statIno(this.path) === this.inode;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    if (mine && statIno(this.path) === this.inode) rmSync(this.path, { force: true });
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    let bytes = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      bytes += Buffer.byteLength(chunk);
      if (bytes > MAX_REQUEST_BYTES) {
        socket.removeAllListeners('data');
        this.reply(socket, {
          ok: false,
          error: { code: CNI_ERROR.decodeFailure, msg: 'agent request: larger than 1 MiB' },
        });
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      socket.removeAllListeners('data');
      let req: AgentRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as AgentRequest;
      } catch (e) {
        this.reply(socket, {
          ok: false,
          error: { code: CNI_ERROR.decodeFailure, msg: `agent request: ${(e as Error).message}` },
        });
        return;
      }
      Promise.resolve()
        .then(() => this.handle(req))
        .then(
          (res) => this.reply(socket, res),
          (e: unknown) => {
            this.log.error({ err: String(e) }, 'CNI handler threw');
            this.reply(socket, {
              ok: false,
              error: { code: CNI_ERROR.internal, msg: `tabby agent: ${String(e)}` },
            });
          },
        );
    });
  }

  private reply(socket: Socket, res: AgentResponse): void {
    if (socket.destroyed) return;
    socket.end(`${JSON.stringify(res)}\n`);
  }
}

function statIno(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** True when something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
