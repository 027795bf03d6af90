/** The built-in worker's service: every newline-terminated line is sent back. */
import type { Socket } from 'node:net';

export function serveLineEcho(socket: Socket, maxLineBytes = 64 * 1024): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const data = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const end = data.lastIndexOf(10) + 1;
    if (end > 0) socket.write(data.subarray(0, end));
    pending = Buffer.from(data.subarray(end));
    if (pending.length > maxLineBytes) socket.destroy();
  });
  // A client that resets is ordinary traffic, not a worker failure.
  socket.on('error', () => socket.destroy());
}
