/**
 * Tasks of the reporter's SQLite writer thread (a WorkerPool of one).
 * better-sqlite3 is synchronous: a batch write, and above all a wait for a
 * lock held by another process (busy_timeout, seconds), would stop the event
 * loop of the whole service. Here it stops only this thread. The thread has
 * its own connection, opened on first use and reopened after a failed open.
 *
 * Failures come back as values carrying the driver's error code (a thrown
 * error would reach the pool as name and message only), so the service can
 * tell bad rows from an unavailable database.
 */
import { openStore, type Store } from '../store/store.js';
import { CallStatus } from '../store/status.js';
import { unpackRows } from './packed-rows.js';

export type TaskOutcome<T> = { ok: true; value: T } | { ok: false; message: string; code?: string };

let store: Promise<Store> | undefined;
let status: CallStatus | undefined;

async function open(url: string): Promise<CallStatus> {
  store ??= openStore(url, { migrate: false }).catch((err: unknown) => {
    store = undefined;
    throw err;
  });
  const opened = await store;
  status ??= new CallStatus(opened);
  return status;
}

async function outcome<T>(work: () => Promise<T>): Promise<TaskOutcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, message: (err as Error).message ?? String(err), ...(typeof code === 'string' ? { code } : {}) };
  }
}

export function connect(input: { url: string }): Promise<TaskOutcome<null>> {
  return outcome(async () => {
    await open(input.url);
    return null;
  });
}

export function write(input: { url: string; rows: Float64Array }): Promise<TaskOutcome<null>> {
  return outcome(async () => {
    await (await open(input.url)).write(unpackRows(input.rows));
    return null;
  });
}

export function prune(input: { url: string; cutoff: number }): Promise<TaskOutcome<number>> {
  return outcome(async () => (await open(input.url)).pruneSeries(input.cutoff));
}

export async function close(): Promise<void> {
  const current = store;
  store = undefined;
  status = undefined;
  if (current) await (await current.catch(() => undefined))?.close();
}
