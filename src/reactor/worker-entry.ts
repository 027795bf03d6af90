/**
 * The body of each WorkerPool thread: loads the task module named in
 * workerData, says it is ready, then runs one task per message and posts the
 * result or the error back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TaskReply, TaskRequest, WorkerBoot } from './worker-pool.js';

const port = parentPort!;
const { module } = workerData as WorkerBoot;
const tasks = (await import(module)) as Record<string, unknown>;

port.on('message', async (request: TaskRequest) => {
  let reply: TaskReply;
  try {
    const task = tasks[request.task];
    if (typeof task !== 'function') throw new Error(`no task named ${JSON.stringify(request.task)} in ${module}`);
    reply = { id: request.id, ok: true, result: await task(request.payload) };
    port.postMessage(reply);
    return;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    reply = { id: request.id, ok: false, error: { name: error.name, message: error.message, stack: error.stack } };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
