/**
 * `lars import lars`: moves a Lars database's routes and latest call status
 * into this store (docs/store.md, "Moving from Lars"). The source is read and
 * checked whole first (lars-source.ts); then the routes go in as an import
 * (one route version and change-log row per edit, so dns pushes them), the
 * status rows that would change go in beside them, and an audit event says
 * who imported what, all in one transaction. A dry run reads the same and
 * writes nothing; a second run finds nothing to change.
 */
import type { Kysely } from 'kysely';
import { insertAuditEvent } from './audit.js';
import { statementChunks } from './dialects/parameters.js';
import { readLarsSource, type DuplicateRow } from './lars-source.js';
import { runImport, type ImportResult } from './route-admin.js';
import type { Database } from './schema.js';
import { upsertStatus, type StatusRow } from './status.js';
import type { Store } from './store.js';
import type { StoreKind } from './url.js';
import { checkActor } from './validate.js';

export interface LarsImportResult extends ImportResult {
  /** The source URL without its password. */
  source: string;
  routeRows: number;
  modules: number;
  /** RouteData rows skipped: an earlier row names the same host. */
  duplicates: DuplicateRow[];
  status: {
    /** ServerCallStatus rows read. */
    rows: number;
    /** Rows written (would be, in a dry run): new to the store, or newer than what it holds. */
    written: number;
    /** Rows the store already holds, or holds a newer report of. */
    unchanged: number;
  };
}

const statusKey = (r: { modid: number; cmdid: number; ip: number; port: number; caller: number }) => `${r.modid}:${r.cmdid}:${r.ip}:${r.port}:${r.caller}`;

/** The source's status rows that would change the store under its rule: a report replaces one at most as new (status.ts). */
async function changedStatus(trx: Kysely<Database>, rows: readonly StatusRow[]): Promise<StatusRow[]> {
  const stored = new Map<string, StatusRow>();
  const held = await trx
    .selectFrom('call_status')
    .select(['modid', 'cmdid', 'ip', 'port', 'caller', 'succ', 'err', 'overload', 'timed', 'duration_us', 'max_duration_us', 'reported_at'])
    .execute();
  for (const { reported_at, ...r } of held) stored.set(statusKey(r), { ...r, overload: Number(r.overload), ts: reported_at });
  return rows.filter((row) => {
    const before = stored.get(statusKey(row));
    if (before === undefined || before.ts < row.ts) return true;
    return before.ts === row.ts && (Object.keys(row) as (keyof StatusRow)[]).some((field) => Number(before[field]) !== row[field]);
  });
}

export class LarsImport {
  private readonly store: Store;
  private readonly kind: StoreKind;
  private readonly clock: () => number;

  constructor(store: Store, options: { clock?: () => number } = {}) {
    this.store = store;
    this.kind = store.kind;
    this.clock = options.clock ?? Date.now;
  }

  /** Reads the Lars database at `from` and imports it (errors: readLarsSource's, before anything is written). */
  async run(from: string, actor: string | null | undefined, options: { dryRun?: boolean; connectTimeoutMs?: number } = {}): Promise<LarsImportResult> {
    const who = checkActor(actor);
    const source = await readLarsSource(from, options);
    const { result, alongside } = await runImport(
      this.store,
      source.modules,
      who,
      { dryRun: options.dryRun, now: Math.floor(this.clock() / 1000), note: 'imported from Lars' },
      async (trx, run) => {
        const status = await changedStatus(trx, source.status);
        if (run.dryRun || (status.length === 0 && run.edits.length === 0)) return status.length;
        for (const chunk of statementChunks(this.kind, status)) await upsertStatus(trx, this.kind, chunk);
        await insertAuditEvent(trx, { kind: 'lars_imported', actor: who, subject: source.source, address: null, detail: `${run.edits.length} route edits, ${status.length} status rows from ${source.source}` }, run.now);
        return status.length;
      },
    );
    const written = alongside ?? 0;
    return {
      ...result,
      source: source.source,
      routeRows: source.routeRows,
      modules: source.modules.length,
      duplicates: source.duplicates,
      status: { rows: source.statusRows, written, unchanged: source.status.length - written },
    };
  }
}
