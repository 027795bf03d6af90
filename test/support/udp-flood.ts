/** UDP helpers for tests that pour datagrams into a port and check it lets go of it. */
import { createSocket, type Socket } from 'node:dgram';

/** Whether a UDP socket can bind `port` on 127.0.0.1 now. */
export function bindable(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => socket.close(() => resolve(false)));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Sends `frame` to `port` from `socket`, a burst of 50 per event-loop turn, until stopped. */
export function flood(socket: Socket, port: number, frame: Buffer): { stop(): void } {
  let running = true;
  const burst = () => {
    if (!running) return;
    for (let i = 0; i < 50; i++) socket.send(frame, port, '127.0.0.1');
    setImmediate(burst);
  };
  burst();
  return { stop: () => (running = false) };
}
