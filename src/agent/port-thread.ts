/**
 * The entry of a port thread (the worker side; port-thread-handle.ts is the
 * main thread's): one PortServer, driven by the main thread's messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../reactor/log.js';
import { PortServer } from './port-server.js';
import type { MainToPort, PortThreadConfig, PortToMain } from './port-thread-protocol.js';

const port = parentPort!;
const config = workerData as PortThreadConfig;
const log = createLogger(`agent.port${config.index}`);
const server = new PortServer({ ...config, logger: log, toMain: (message: PortToMain) => port.postMessage(message) });
server.start();

port.on('message', (message: MainToPort) => {
  server.handle(message).then(
    () => {
      // Once stopped nothing is left to do: closing the port lets the thread exit.
      if (message.type === 'stop') port.close();
    },
    (err: unknown) => log.error('message_failed', { type: message.type, error: err }),
  );
});
port.postMessage({ type: 'ready' } satisfies PortToMain);
