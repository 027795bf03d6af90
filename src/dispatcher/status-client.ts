/** Asks a running dispatcher for its status over its UNIX socket. */
import { createConnection } from 'node:net';
import { encodeLine, LineSplitter, parseStatus, type DispatchStatus } from './protocol.js';

export async function requestStatus(socketPath: string, timeoutMs = 5000): Promise<DispatchStatus> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const lines = new LineSplitter();
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no status from the dispatcher at ${socketPath} within ${timeoutMs} ms`)));
    socket.once('connect', () => socket.write(encodeLine({ type: 'status' })));
    socket.on('data', (chunk) => {
      try {
        const [line] = lines.push(chunk);
        if (line === undefined) return;
        socket.destroy();
        resolve(parseStatus(line));
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.once('end', () => fail(new Error(`the dispatcher at ${socketPath} closed without a status`)));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      fail(new Error(`no dispatcher at ${socketPath}: ${err.code ?? err.message}`)),
    );
  });
}
