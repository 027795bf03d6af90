/**
 * The dns bench's data set: 10,000 routes (modid 1..100 x cmdid 1..100) of 10
 * hosts each, bulk-inserted with multi-row INSERTs in one transaction. The
 * change log gets one module-add row per route (versions 1..10,000) and the
 * version row says 10,000, as if every module had been created with its
 * hosts in one console edit, so a dns sees a dense, consistent log.
 */
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Database, Store } from '../src/store/index.js';
import { kyselyOf } from '../src/store/store.js';

export const CMDIDS_PER_MODID = 100;
export const ROUTE_COUNT = 10_000;
export const HOSTS_PER_ROUTE = 10;
/** 10.0.0.0: route r's hosts are 10.0.0.0 + 16r + h. */
const FIRST_IP = 10 * 2 ** 24;
const FIRST_PORT = 9000;
/** Rows per INSERT: 1,000 routes rows bind 7,000 parameters, far below every engine's limit. */
const CHUNK = 1000;

export interface RouteId {
  modid: number;
  cmdid: number;
}

export function routeAt(index: number): RouteId {
  return { modid: 1 + Math.floor(index / CMDIDS_PER_MODID), cmdid: 1 + (index % CMDIDS_PER_MODID) };
}

/** Unsigned IPv4 value and port of a seeded host. */
export function seededHost(routeIndex: number, host: number): { ip: number; port: number } {
  return { ip: FIRST_IP + routeIndex * 16 + host, port: FIRST_PORT + host };
}

async function insertChunked<T>(count: number, row: (i: number) => T, insert: (rows: T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += CHUNK) {
    await insert(Array.from({ length: Math.min(CHUNK, count - start) }, (_, i) => row(start + i)));
  }
}

async function seedRows(trx: Kysely<Database>, now: number): Promise<void> {
  await insertChunked(
    ROUTE_COUNT,
    (i) => ({ ...routeAt(i), description: `bench route ${i}`, created_at: now, updated_at: now }),
    (rows) => trx.insertInto('modules').values(rows).execute(),
  );
  await insertChunked(
    ROUTE_COUNT * HOSTS_PER_ROUTE,
    (i) => {
      const route = Math.floor(i / HOSTS_PER_ROUTE);
      return { ...routeAt(route), ...seededHost(route, i % HOSTS_PER_ROUTE), weight: 1, created_at: now, updated_at: now };
    },
    (rows) => trx.insertInto('routes').values(rows).execute(),
  );
  await insertChunked(
    ROUTE_COUNT,
    (i) => ({
      version: i + 1,
      ...routeAt(i),
      action: 'module-add' as const,
      detail: `bench seed with ${HOSTS_PER_ROUTE} hosts`,
      actor: 'bench',
      changed_at: now,
    }),
    (rows) => trx.insertInto('route_changes').values(rows).execute(),
  );
  await trx.updateTable('route_version').set({ version: ROUTE_COUNT }).where('id', '=', 1).execute();
}

/** Seeds an empty, migrated store; returns how long it took in ms. */
export async function seedRoutes(store: Store): Promise<number> {
  const started = performance.now();
  const now = Math.floor(Date.now() / 1000);
  await kyselyOf(store).transaction().execute((trx) => seedRows(trx, now));
  return performance.now() - started;
}
