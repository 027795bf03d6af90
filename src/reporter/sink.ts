/**
 * Where the reporter's batches go. MySQL and PostgreSQL drivers are
 * asynchronous: batches are written from the service's own thread, several at
 * once. A SQLite file is written from one worker thread (see sqlite-tasks.ts),
 * one batch at a time: SQLite has a single writer, and its synchronous driver
 * must not stop the event loop. An in-memory SQLite database exists only in
 * its own connection, so it is written in-process (tests, demos).
 */
import { WorkerPool } from '../reactor/worker-pool.js';
import { CallStatus, type StatusRow } from '../store/status.js';
import type { Store } from '../store/store.js';
import { packRows } from './packed-rows.js';
import type * as SqliteTasks from './sqlite-tasks.js';
import type { TaskOutcome } from './sqlite-tasks.js';

export interface StatusSink {
  /** For log lines: "store" or "sqlite-worker". */
  readonly name: string;
  /** How many writes may usefully run at once. */
  readonly maxWriters: number;
  /** Writes one batch in one transaction; rejects with the driver's error (its code kept). */
  write(rows: readonly StatusRow[]): Promise<void>;
  /** Deletes series windows that ended before cutoff (unix seconds). */
  prune(cutoff: number): Promise<number>;
  close(): Promise<void>;
}

function directSink(store: Store): StatusSink {
  const status = new CallStatus(store);
  return {
    name: 'store',
    maxWriters: store.kind === 'sqlite' ? 1 : Number.POSITIVE_INFINITY,
    write: (rows) => status.write(rows),
    prune: (cutoff) => status.pruneSeries(cutoff),
    close: async () => {},
  };
}

function unwrap<T>(outcome: TaskOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw Object.assign(new Error(outcome.message), outcome.code === undefined ? {} : { code: outcome.code });
}

async function sqliteWorkerSink(url: string): Promise<StatusSink> {
  const pool = new WorkerPool<typeof SqliteTasks>({
    name: 'reporter-sqlite',
    module: new URL('./sqlite-tasks.js', import.meta.url),
    size: 1,
  });
  try {
    unwrap(await pool.run('connect', { url }));
  } catch (err) {
    await pool.close();
    throw err;
  }
  return {
    name: 'sqlite-worker',
    maxWriters: 1,
    write: async (rows) => {
      unwrap(await pool.run('write', { url, rows: packRows(rows) }));
    },
    prune: async (cutoff) => unwrap(await pool.run('prune', { url, cutoff })),
    close: async () => {
      await pool.run('close', undefined).catch(() => undefined);
      await pool.close();
    },
  };
}

/** The sink for a store: a worker thread for a SQLite file, the store itself otherwise. */
export function openSink(store: Store): Promise<StatusSink> {
  const url = store.describe();
  if (store.kind === 'sqlite' && !url.endsWith(':memory:')) return sqliteWorkerSink(url);
  return Promise.resolve(directSink(store));
}
