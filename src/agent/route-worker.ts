/** A port worker thread: one PortServer, driven by the main thread's messages (see service.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../reactor/log.js';
import { PortServer } from './port-server.js';
import type { MainToWorker, PortWorkerConfig, WorkerToMain } from './worker-protocol.js';

const port = parentPort!;
const config = workerData as PortWorkerConfig;
const log = createLogger(`agent.port${config.index}`);
const server = new PortServer({ ...config, logger: log, toMain: (message: WorkerToMain) => port.postMessage(message) });
server.start();

port.on('message', (message: MainToWorker) => {
  server.handle(message).then(
    () => {
      // Once stopped nothing is left to do: closing the port lets the thread exit.
      if (message.type === 'stop') port.close();
    },
    (err: unknown) => log.error('message_failed', { type: message.type, error: err }),
  );
});
port.postMessage({ type: 'ready' } satisfies WorkerToMain);
