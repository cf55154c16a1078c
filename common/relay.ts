// Pipes two connected sockets into each other until either side ends or fails (then both go).
import type { Socket } from 'node:net';

export function relay(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
}
