/**
 * The console's audit trail (docs/console.md, "Audit trail"): sign-ins,
 * failed and throttled sign-ins, sign-outs, API tokens and account changes
 * (an editor's grants among them), and imports from a Lars database,
 * with who, from where and when. Route edits have their own log
 * (change-log.ts), which dns reads; this one is for people only and is
 * pruned by age.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { kyselyOf, type Store } from './store.js';

export const AUDIT_KINDS = [
  'login',
  'login_failed',
  'login_throttled',
  'logout',
  'token_created',
  'token_revoked',
  'user_added',
  'user_role_changed',
  'user_granted',
  'user_ungranted',
  'user_password_reset',
  'user_disabled',
  'user_enabled',
  'user_deleted',
  'lars_imported',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditEntry {
  kind: AuditKind;
  /** Who did it: the user signed in, or the admin; null when nobody is known (a failed sign-in). */
  actor: string | null;
  /** Whom or what it was about: the account, or the token's name. */
  subject?: string | null;
  /** The client address, where there was one. */
  address?: string | null;
  detail?: string;
}

export interface AuditEvent extends Required<AuditEntry> {
  id: number;
  /** Unix seconds. */
  at: number;
}

const DETAIL_MAX = 255;
const NAME_MAX = 64;

const bounded = (text: string | null | undefined, max: number) => (text === null || text === undefined ? null : [...text].slice(0, max).join(''));

/** One event, in the caller's transaction when given one (an import records itself with what it wrote). */
export async function insertAuditEvent(db: Kysely<Database>, entry: AuditEntry, at: number): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at,
      kind: entry.kind,
      actor: bounded(entry.actor, NAME_MAX),
      subject: bounded(entry.subject, NAME_MAX),
      address: bounded(entry.address, NAME_MAX),
      detail: bounded(entry.detail, DETAIL_MAX) ?? '',
    })
    .execute();
}

export class AuditLog {
  private readonly db: Kysely<Database>;
  private readonly clock: () => number;

  constructor(store: Store, options: { clock?: () => number } = {}) {
    this.db = kyselyOf(store);
    this.clock = options.clock ?? Date.now;
  }

  async record(entry: AuditEntry): Promise<void> {
    await insertAuditEvent(this.db, entry, Math.floor(this.clock() / 1000));
  }

  /** The newest events first, older than `before` (an id) when given. */
  async list(options: { limit?: number; before?: number } = {}): Promise<AuditEvent[]> {
    let query = this.db
      .selectFrom('audit_events')
      .select(['id', 'at', 'kind', 'actor', 'subject', 'address', 'detail'])
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100);
    if (options.before !== undefined) query = query.where('id', '<', options.before);
    const rows = await query.execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at), kind: r.kind as AuditKind }));
  }

  /** Deletes events older than the given age; returns how many went. */
  async prune(olderThanSeconds: number): Promise<number> {
    const cutoff = Math.floor(this.clock() / 1000) - olderThanSeconds;
    const result = await this.db.deleteFrom('audit_events').where('at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
