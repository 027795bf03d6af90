/**
 * The route version row and the change log. Every route edit bumps the
 * version and appends one change row in its own transaction. Rows are never
 * consumed by readers: several dns instances may share one store, and each
 * remembers the last version it applied. Old rows go by age (ChangeLog.prune).
 * The functions on a Kysely handle run inside the caller's transaction.
 */
import type { Kysely } from 'kysely';
import type { ChangeAction, Database } from './schema.js';
import { kyselyOf, readConsistently, type Store } from './store.js';

export interface RouteChange {
  version: number;
  modid: number;
  cmdid: number;
  action: ChangeAction;
}

export interface ChangeRecord extends RouteChange {
  detail: string;
  actor: string | null;
  /** Unix seconds. */
  changedAt: number;
  /** The module as this change left it (JSON, route-document.ts's RouteSnapshot), when recorded; written, never listed. */
  snapshot?: string | null;
}

/** A change as people read it: whether the route can be put back as this change left it. */
export interface ChangeView extends Omit<ChangeRecord, 'snapshot'> {
  revertible: boolean;
}

export async function readVersion(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('route_version').select('version').where('id', '=', 1).executeTakeFirst();
  return row?.version ?? 0;
}

/**
 * Adds one to the version and returns the new value. Run it FIRST in an edit
 * transaction: the UPDATE takes the row's write lock, which orders concurrent
 * edits (each gets its own version) before anything was read.
 */
export function bumpVersion(trx: Kysely<Database>): Promise<number> {
  return advanceVersion(trx, 1);
}

/**
 * Takes the version row's write lock without moving it, for a transaction
 * that learns only later how many changes it makes (the registry's batches).
 */
export async function lockVersion(trx: Kysely<Database>): Promise<void> {
  await advanceVersion(trx, 0);
}

async function advanceVersion(trx: Kysely<Database>, by: number): Promise<number> {
  const result = await trx
    .updateTable('route_version')
    .set((eb) => ({ version: eb('version', '+', by) }))
    .where('id', '=', 1)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new Error('route_version row is missing: run lars db migrate');
  return readVersion(trx);
}

export async function appendChange(trx: Kysely<Database>, change: ChangeRecord): Promise<void> {
  await trx.insertInto('route_changes').values(changeRow(change)).execute();
}

/**
 * Advances the version by one per change and appends them, one version each
 * (versions stay dense: coversVersions). Call after lockVersion. Returns the
 * new version, or undefined when there was nothing to append.
 */
export async function appendChanges(trx: Kysely<Database>, changes: readonly Omit<ChangeRecord, 'version'>[]): Promise<number | undefined> {
  if (changes.length === 0) return undefined;
  const newest = await advanceVersion(trx, changes.length);
  const first = newest - changes.length + 1;
  // Chunked to stay far below every engine's bound-parameter limit.
  for (let i = 0; i < changes.length; i += 500) {
    const rows = changes.slice(i, i + 500).map((change, j) => changeRow({ ...change, version: first + i + j }));
    await trx.insertInto('route_changes').values(rows).execute();
  }
  return newest;
}

function changeRow(change: ChangeRecord) {
  return {
    version: change.version,
    modid: change.modid,
    cmdid: change.cmdid,
    action: change.action,
    detail: change.detail,
    actor: change.actor,
    changed_at: change.changedAt,
    snapshot: change.snapshot ?? null,
  };
}

/** Changes after `version`, oldest first. */
export async function changesSince(db: Kysely<Database>, version: number): Promise<RouteChange[]> {
  return db
    .selectFrom('route_changes')
    .select(['version', 'modid', 'cmdid', 'action'])
    .where('version', '>', version)
    .orderBy('version')
    .execute();
}

/**
 * True when `changes` (from changesSince(since)) holds every version in
 * (since, upTo]. Versions are dense (one change row per version), so a hole
 * means rows were pruned before this reader saw them, or the version was
 * bumped by hand: the reader must then treat every route as changed.
 */
export function coversVersions(changes: readonly RouteChange[], since: number, upTo: number): boolean {
  const seen = changes.filter((c) => c.version > since && c.version <= upTo).length;
  return seen === Math.max(0, upTo - since);
}

/** What the registry writes (docs/registry.md): instances came, left or ran out; no configured state changed. */
const REGISTRY_ACTIONS: readonly ChangeAction[] = ['register', 'deregister', 'expire'];

export interface ChangeLogOptions {
  /** Unix milliseconds; injected by tests. */
  clock?: () => number;
}

/** The change log for people (console) and its pruning (dns). */
export class ChangeLog {
  private readonly db: Kysely<Database>;
  private readonly clock: () => number;

  constructor(store: Store, options: ChangeLogOptions = {}) {
    this.db = kyselyOf(store);
    this.clock = options.clock ?? Date.now;
  }

  /** The newest changes first, older than beforeVersion when given, with the version they were read at. */
  list(options: { limit?: number; beforeVersion?: number } = {}): Promise<{ version: number; changes: ChangeView[] }> {
    return readConsistently(this.db, async (trx) => {
      let query = trx
        .selectFrom('route_changes')
        .select(['version', 'modid', 'cmdid', 'action', 'detail', 'actor', 'changed_at'])
        .select((eb) => eb('snapshot', 'is not', null).as('revertible'))
        .orderBy('version', 'desc')
        .limit(options.limit ?? 100);
      if (options.beforeVersion !== undefined) query = query.where('version', '<', options.beforeVersion);
      const rows = await query.execute();
      return {
        version: await readVersion(trx),
        changes: rows.map(({ changed_at, revertible, ...rest }) => ({ ...rest, changedAt: changed_at, revertible: Boolean(Number(revertible)) })),
      };
    });
  }

  /**
   * The newest change at or before `version` that could have changed the
   * configured module, with the state it recorded (null: not recorded, as for
   * rows before migration 0006 and all but an import's last row per module);
   * undefined when there is none. Registry rows are skipped: they change
   * registered instances only.
   */
  async snapshotAt(modid: number, cmdid: number, version: number): Promise<{ version: number; snapshot: string | null } | undefined> {
    const row = await this.db
      .selectFrom('route_changes')
      .select(['version', 'snapshot'])
      .where('modid', '=', modid)
      .where('cmdid', '=', cmdid)
      .where('version', '<=', version)
      .where('action', 'not in', REGISTRY_ACTIONS)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { version: Number(row.version), snapshot: row.snapshot };
  }

  /** Deletes change rows older than the given age; returns how many went. */
  async prune(olderThanSeconds: number): Promise<number> {
    const cutoff = Math.floor(this.clock() / 1000) - olderThanSeconds;
    const result = await this.db.deleteFrom('route_changes').where('changed_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
