/**
 * The tables, as Kysely sees them. One schema for SQLite, MySQL/MariaDB and
 * PostgreSQL (created by migrations.ts; Kysely's Migrator keeps its own
 * kysely_migration and kysely_migration_lock beside them).
 *
 * Conventions every engine follows:
 * - every `*_at` column and `window_ts` is integer unix SECONDS (BIGINT);
 * - ip and caller are the UNSIGNED 32-bit value of the IPv4 address (BIGINT,
 *   0..4294967295), never the signed int32 of the wire;
 * - BIGINT columns come back as JS numbers on every engine (the dialects set
 *   the drivers up for that);
 * - booleans are integers 0/1.
 */
import type { ColumnType, Generated } from 'kysely';

/** A column with a database default: optional on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export type ChangeAction =
  | 'add'
  | 'update'
  | 'del'
  | 'module-add'
  | 'module-update'
  | 'module-del'
  // A registered instance (docs/registry.md) came, left, ran out, or an operator drained it.
  | 'register'
  | 'deregister'
  | 'expire'
  | 'drain'
  | 'undrain';

export interface ModulesTable {
  modid: number;
  cmdid: number;
  description: Defaulted<string>;
  /** A STRATEGY_NAMES name every agent runs for this route; null: each agent's own [loadbalance] strategy. */
  strategy: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: number;
  updated_at: number;
}

export interface RoutesTable {
  modid: number;
  cmdid: number;
  /** Unsigned 32-bit IPv4 value. */
  ip: number;
  port: number;
  weight: Defaulted<number>;
  /** 1 while drained for maintenance: dns serves weight 0 and `weight` waits for the undrain (migration 0005). */
  drained: Defaulted<number>;
  created_at: number;
  updated_at: number;
}

/** Exactly one row, id = 1. */
export interface RouteVersionTable {
  id: number;
  version: number;
}

/** One row per route version (version is unique); pruned by age, never consumed. */
export interface RouteChangesTable {
  id: Generated<number>;
  version: number;
  modid: number;
  cmdid: number;
  action: ChangeAction;
  detail: string;
  actor: string | null;
  changed_at: number;
  /**
   * The module as the change left it (RouteSnapshot JSON, "null" once
   * deleted), so a route can be reverted to this version; null when not
   * recorded (rows before migration 0006, registry rows, all but an import's
   * last row per module).
   */
  snapshot: Defaulted<string | null>;
}

/** Latest status of one host as seen by one caller. */
export interface CallStatusTable {
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
  /** Unsigned 32-bit IPv4 value of the reporting host. */
  caller: number;
  succ: number;
  err: number;
  /** 0 or 1. */
  overload: number;
  reported_at: number;
  /** Of succ + err, the calls reported with a duration; their durations summed and the longest, µs (migration 0011). */
  timed: Defaulted<number>;
  duration_us: Defaulted<number>;
  max_duration_us: Defaulted<number>;
}

/** Per-window call counts for charts; the key includes window_ts so a re-sent window is an upsert. */
export interface CallSeriesTable {
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
  caller: number;
  window_ts: number;
  succ: number;
  err: number;
  /** As in CallStatusTable, for the window (migration 0011). */
  timed: Defaulted<number>;
  duration_us: Defaulted<number>;
  max_duration_us: Defaulted<number>;
}

export interface UsersTable {
  name: string;
  password_hash: string;
  role: string;
  created_at: number;
  updated_at: number;
  /** 1: may not sign in, its sessions ended and its tokens refused, until enabled (migration 0010). */
  disabled: Defaulted<number>;
}

/** What an editor may change (grants.ts), migration 0012: one row per grant. */
export interface UserGrantsTable {
  user_name: string;
  modid: number;
  /** null: every cmdid of the modid. */
  cmdid: number | null;
  /** Generated from cmdid (NULL as 2^32) for the unique key; never written. */
  cmdid_key: ColumnType<number, never, never>;
}

/** The console's audit trail (audit.ts), migration 0007. */
export interface AuditEventsTable {
  id: Generated<number>;
  /** Unix seconds. */
  at: number;
  kind: string;
  actor: string | null;
  subject: string | null;
  address: string | null;
  detail: Defaulted<string>;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  user_name: string;
  created_at: number;
  revoked_at: number | null;
  /** Unix seconds after which the token no longer works; null: until revoked (migration 0008). */
  expires_at: Defaulted<number | null>;
  /** What the token may do: "full" (its user's role) or "read" (reads only, whatever the role). */
  scope: Defaulted<string>;
}

export interface SessionsTable {
  id_hash: string;
  user_name: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

/**
 * A live registered instance (docs/registry.md). The lease itself is held in
 * memory by the owner dns; this row is what every dns serves.
 */
export interface InstancesTable {
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
  weight: number;
  ttl_ms: number;
  /** JSON object of string values. */
  metadata: string;
  /** The node id of the dns that holds the lease. */
  owner: string;
  registered_at: number;
  /** Refreshed coarsely (docs/registry.md: heartbeat_store_s). */
  heartbeat_at: number;
  load_in_flight: number | null;
  load_connections: number | null;
  load_cpu_permille: number | null;
  load_score: number | null;
  /** The registry_version of the last load write; observers read rows newer than theirs. */
  revision: number;
}

/** An operator's weight for a registered instance, kept apart so it survives re-registration. */
export interface InstanceOverridesTable {
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
  weight: number;
  updated_at: number;
}

/** Exactly one row, id = 1: bumped by each batch of load writes (not a route change). */
export interface RegistryVersionTable {
  id: number;
  version: number;
}

/** One row per running dns: others judge it alive while `beats` keeps changing. */
export interface DnsNodesTable {
  node_id: string;
  address: string;
  started_at: number;
  heartbeat_at: number;
  beats: number;
  /** What it serves and to whom (DnsReport JSON), written with each beat, for people (migration 0009). */
  report: Defaulted<string | null>;
}

export interface Database {
  instances: InstancesTable;
  instance_overrides: InstanceOverridesTable;
  registry_version: RegistryVersionTable;
  dns_nodes: DnsNodesTable;
  modules: ModulesTable;
  routes: RoutesTable;
  route_version: RouteVersionTable;
  route_changes: RouteChangesTable;
  call_status: CallStatusTable;
  call_series: CallSeriesTable;
  users: UsersTable;
  user_grants: UserGrantsTable;
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  sessions: SessionsTable;
}
