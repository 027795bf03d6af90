/**
 * How many rows one multi-row statement may carry on each engine: a statement
 * binds one parameter per column per row, and each engine caps the
 * parameters of one statement (docs/store.md, "Batched writes").
 */
import type { StoreKind } from '../url.js';

/**
 * SQLite's SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32 (999 before; the
 * bundled better-sqlite3 is newer); PostgreSQL's wire protocol counts
 * parameters in 16 bits; MySQL caps a prepared statement's placeholders at 65535.
 */
export const MAX_BOUND_PARAMETERS: Readonly<Record<StoreKind, number>> = Object.freeze({ sqlite: 32766, postgres: 65535, mysql: 65535 });

/** Rows per statement are also capped, so one statement's text stays a few hundred kB whatever the engine. */
export const MAX_ROWS_PER_STATEMENT = 1000;

/** The rows split into statements that each stay under the engine's limit; the columns are the first row's. */
export function statementChunks<T extends object>(kind: StoreKind, rows: readonly T[]): T[][] {
  if (rows.length === 0) return [];
  const columns = Math.max(1, Object.keys(rows[0]!).length);
  const size = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_BOUND_PARAMETERS[kind] / columns)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
