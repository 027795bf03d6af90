/**
 * Reads the console needs beyond RouteAdmin and the status module: one
 * module's row, and the latest status of every route host folded per host
 * in SQL (the modules page would otherwise load every caller's row).
 */
import type { Kysely } from 'kysely';
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import type { Database } from '../store/schema.js';
import type { StatusSample } from './health.js';

export interface ModuleRow {
  modid: number;
  cmdid: number;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export async function findModule(db: Kysely<Database>, modid: number, cmdid: number): Promise<ModuleRow | undefined> {
  const row = await db
    .selectFrom('modules')
    .select(['modid', 'cmdid', 'description', 'created_at', 'updated_at'])
    .where('modid', '=', modid)
    .where('cmdid', '=', cmdid)
    .executeTakeFirst();
  return row && { modid: row.modid, cmdid: row.cmdid, description: row.description, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
}

/**
 * Per service (routeKey), one sample per route host that has a report: all
 * callers folded (overloaded if any caller says so, counts summed, newest
 * time). Hosts no longer in the route are left out.
 */
export async function hostSamplesByService(db: Kysely<Database>): Promise<Map<RouteKey, StatusSample[]>> {
  const rows = await db
    .selectFrom('call_status as s')
    .innerJoin('routes as r', (join) =>
      join.onRef('r.modid', '=', 's.modid').onRef('r.cmdid', '=', 's.cmdid').onRef('r.ip', '=', 's.ip').onRef('r.port', '=', 's.port'),
    )
    .select(['s.modid', 's.cmdid', 's.ip', 's.port'])
    .select((eb) => [
      eb.fn.max<number>('s.overload').as('overload'),
      eb.fn.sum<number>('s.succ').as('succ'),
      eb.fn.sum<number>('s.err').as('err'),
      eb.fn.max<number>('s.reported_at').as('reported_at'),
    ])
    .groupBy(['s.modid', 's.cmdid', 's.ip', 's.port'])
    .execute();
  const byService = new Map<RouteKey, StatusSample[]>();
  for (const r of rows) {
    const key = routeKey(r.modid, r.cmdid);
    const samples = byService.get(key) ?? [];
    samples.push({ overload: Number(r.overload) !== 0, succ: Number(r.succ), err: Number(r.err), reportedAt: Number(r.reported_at) });
    byService.set(key, samples);
  }
  return byService;
}
