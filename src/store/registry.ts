/**
 * The registry's rows (docs/registry.md): live instances, their load, each
 * dns's liveness row. The owner dns writes them (InstanceRegistry); dns
 * reads them through RouteReader, people through list().
 *
 * An instance coming or going is a route change like an operator's edit: it
 * bumps the route version and appends a change row, so every dns on the
 * store reloads and pushes it. A load write is not: it bumps registry_version
 * and stamps the rows it wrote with that revision.
 */
import { sql, type Kysely } from 'kysely';
import { intToIp } from '../protocol/ip.js';
import type { ChangeFeed } from './change-feed.js';
import { appendChanges, lockVersion, readVersion } from './change-log.js';
import type { ChangeAction, Database } from './schema.js';
import { kyselyOf, readConsistently, type Store } from './store.js';
import { checkModuleKey, type AddressFilter, type ModuleKey } from './validate.js';

/** ip is the unsigned 32-bit value. */
export interface InstanceKey extends ModuleKey {
  ip: number;
  port: number;
}

export interface InstanceRegistration extends InstanceKey {
  weight: number;
  ttlMs: number;
  metadata: Readonly<Record<string, string>>;
}

/** What a server reports of its load (RenewRequest.load). */
export interface StoredLoad {
  inFlight: number;
  connections: number;
  cpuPermille: number;
  score: number;
}

export type RegistryWrite =
  | { kind: 'register'; instance: InstanceRegistration }
  | { kind: 'deregister' | 'expire'; key: InstanceKey; reason: string };

/**
 * written: the row changed (a change row for a new instance or weight, none
 * for a renewed lease of the same instance); no-module: the module does not
 * exist; not-owned: another dns holds the instance now (or nobody does), so
 * this one's deregister or expiry changes nothing.
 */
export type WriteOutcome = 'written' | 'no-module' | 'not-owned';

export interface LoadWrite {
  key: InstanceKey;
  /** null: keep the stored load (only the heartbeat time is refreshed). */
  load: StoredLoad | null;
}

export interface DnsNode {
  nodeId: string;
  address: string;
  /** Changes with every liveness write: what other nodes watch. */
  beats: number;
  /** Unix seconds by the writer's clock, for people. */
  heartbeatAt: number;
}

/** What a dns reports with each beat, for people (the console's Connected page). */
export interface DnsReport {
  /** The route version of the snapshot it serves. */
  routeVersion: number;
  connections: number;
  subscribedRoutes: number;
  /** Subscribed connections, at most DNS_REPORT_PEERS of them: ip:port, connected since, routes asked for, last push (unix seconds, null: none yet). */
  peers: { address: string; since: number; routes: number; lastPushAt: number | null }[];
  /** How many subscribed connections the list leaves out. */
  morePeers: number;
}

/** Peers a dns lists in its report: enough to find an agent, bounded so a beat stays small. */
export const DNS_REPORT_PEERS = 200;

/** A live dns as people see it: its node row with its last report. */
export interface DnsNodeView extends DnsNode {
  /** Unix seconds. */
  startedAt: number;
  report: DnsReport | null;
}

/** A registered instance, for people (`lars instances`, the console). */
export interface InstanceInfo {
  modid: number;
  cmdid: number;
  /** Dotted IPv4. */
  ip: string;
  port: number;
  /** The weight served: the operator's when set, else the registered one. */
  weight: number;
  registeredWeight: number;
  /** The operator's weight (0: drained), null when none. */
  overrideWeight: number | null;
  /** Seconds. */
  ttl: number;
  /** Unix seconds, refreshed coarsely (docs/registry.md). */
  lastHeartbeat: number;
  registeredAt: number;
  owner: string;
  metadata: Record<string, string>;
  load: StoredLoad | null;
}

export interface InstanceLoadRow extends InstanceKey {
  score: number | null;
}

export interface InstanceRegistryOptions {
  /** Unix milliseconds; injected by tests. */
  clock?: () => number;
}

const ACTOR = 'registry';

const keyOf = (k: InstanceKey): InstanceKey => ({ modid: k.modid, cmdid: k.cmdid, ip: k.ip, port: k.port });
const instanceName = (k: InstanceKey) => `${intToIp(k.ip)}:${k.port}`;

interface PendingChange extends ModuleKey {
  action: ChangeAction;
  detail: string;
}

function loadColumns(load: StoredLoad) {
  return { load_in_flight: load.inFlight, load_connections: load.connections, load_cpu_permille: load.cpuPermille, load_score: load.score };
}

export class InstanceRegistry {
  private readonly db: Kysely<Database>;
  private readonly clock: () => number;
  private readonly feed: ChangeFeed;

  constructor(store: Store, options: InstanceRegistryOptions = {}) {
    this.db = kyselyOf(store);
    this.feed = store.changes;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Applies a batch of registrations and removals by `owner` in one
   * transaction, and returns each one's outcome in order. The version row is
   * locked first, as every route edit does, then advanced once per change.
   * The batch is worked out in memory over the rows it touches (read once),
   * then written in bulk: a batch costs a few statements, not a few per
   * instance, whatever the engine's round trip.
   */
  async write(owner: string, writes: readonly RegistryWrite[]): Promise<WriteOutcome[]> {
    let version: number | undefined;
    const outcomes = await this.db.transaction().execute(async (trx) => {
      await lockVersion(trx);
      const now = Math.floor(this.clock() / 1000);
      const registrations = writes.flatMap((w) => (w.kind === 'register' ? [w.instance] : []));
      const modules = await existingModules(trx, registrations);
      const before = await currentRows(trx, writes.map((w) => (w.kind === 'register' ? w.instance : w.key)));
      const after = new Map(before);
      const changes: PendingChange[] = [];
      const outcomes = writes.map((write): WriteOutcome => {
        if (write.kind !== 'register') {
          const id = rowId(write.key);
          if (after.get(id)?.owner !== owner) return 'not-owned';
          after.delete(id);
          changes.push({ ...keyOf(write.key), action: write.kind, detail: `${instanceName(write.key)}: ${write.reason}` });
          return 'written';
        }
        const instance = write.instance;
        if (!modules.has(`${instance.modid}:${instance.cmdid}`)) return 'no-module';
        const id = rowId(instance);
        const held = after.get(id);
        const detail = `${instanceName(instance)} weight ${instance.weight}, ttl ${instance.ttlMs} ms, by dns ${owner}`;
        // The same instance again (a restarted server, or one that moved to this dns): agents see no change unless its weight moved.
        if (!held) changes.push({ ...keyOf(instance), action: 'register', detail });
        else if (held.weight !== instance.weight) changes.push({ ...keyOf(instance), action: 'register', detail: `${detail} (weight was ${held.weight})` });
        after.set(id, { key: keyOf(instance), weight: instance.weight, owner, registration: instance });
        return 'written';
      });
      await applyRows(trx, before, after, owner, now);
      version = await appendChanges(trx, changes.map((c) => ({ ...c, actor: ACTOR, changedAt: now })));
      return outcomes;
    });
    // Instances that came or went are route changes for every other dns too; loads are not (they wait for the poll).
    if (version !== undefined) this.feed.publish(version);
    return outcomes;
  }

  /** Writes changed loads (and refreshed heartbeat times) of instances `owner` holds; returns the rows written. */
  flushLoads(owner: string, writes: readonly LoadWrite[]): Promise<number> {
    if (writes.length === 0) return Promise.resolve(0);
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('registry_version')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', 1)
        .execute();
      const revision = await readRegistryVersion(trx);
      const heartbeat_at = Math.floor(this.clock() / 1000);
      let written = 0;
      for (const { key, load } of writes) {
        const result = await trx
          .updateTable('instances')
          .set({ heartbeat_at, revision, ...(load ? loadColumns(load) : {}) })
          .where((eb) => eb.and({ ...keyOf(key), owner }))
          .executeTakeFirst();
        written += Number(result.numUpdatedRows);
      }
      return written;
    });
  }

  /** A dns's liveness write: its row created or its beats advanced. */
  async beat(node: { nodeId: string; address: string; startedAt: number; report?: DnsReport }): Promise<void> {
    const now = Math.floor(this.clock() / 1000);
    const report = node.report === undefined ? null : JSON.stringify(node.report);
    const result = await this.db
      .updateTable('dns_nodes')
      .set((eb) => ({ beats: eb('beats', '+', 1), heartbeat_at: now, address: node.address, report }))
      .where('node_id', '=', node.nodeId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return;
    await this.db
      .insertInto('dns_nodes')
      .values({ node_id: node.nodeId, address: node.address, started_at: Math.floor(node.startedAt / 1000), heartbeat_at: now, beats: 1, report })
      .execute();
  }

  /** Every dns with its last report, for people. */
  async nodeViews(): Promise<DnsNodeView[]> {
    const rows = await this.db.selectFrom('dns_nodes').select(['node_id', 'address', 'beats', 'heartbeat_at', 'started_at', 'report']).orderBy('node_id').execute();
    return rows.map((r) => ({
      nodeId: r.node_id,
      address: r.address,
      beats: Number(r.beats),
      heartbeatAt: Number(r.heartbeat_at),
      startedAt: Number(r.started_at),
      report: r.report === null ? null : (JSON.parse(r.report) as DnsReport),
    }));
  }

  async nodes(): Promise<DnsNode[]> {
    const rows = await this.db.selectFrom('dns_nodes').select(['node_id', 'address', 'beats', 'heartbeat_at']).orderBy('node_id').execute();
    return rows.map((r) => ({ nodeId: r.node_id, address: r.address, beats: r.beats, heartbeatAt: r.heartbeat_at }));
  }

  /**
   * A dead dns's instances that no server moved to another dns: expired, each
   * a change row, and the node's row removed. Safe when several live nodes
   * do it at once: only rows still owned by the dead node go, once.
   */
  async expireOwnedBy(deadNode: string): Promise<number> {
    const keys = await this.db.selectFrom('instances').select(['modid', 'cmdid', 'ip', 'port']).where('owner', '=', deadNode).execute();
    const reason = `its dns ${deadNode} stopped`;
    const outcomes = await this.write(deadNode, keys.map((key) => ({ kind: 'expire' as const, key, reason })));
    await this.db.deleteFrom('dns_nodes').where('node_id', '=', deadNode).execute();
    return outcomes.filter((o) => o === 'written').length;
  }

  /** Every registered instance, or one module's, in key order, with the route version read with them. */
  list(filter?: ModuleKey): Promise<{ version: number; instances: InstanceInfo[] }> {
    const key = filter && checkModuleKey(filter);
    return readConsistently(this.db, async (trx) => ({ version: await readVersion(trx), instances: await selectInstances(trx, key) }));
  }
}

/** What a batch needs to know of an instance row. */
interface RowState {
  key: InstanceKey;
  weight: number;
  owner: string;
  /** Set when this batch (re-)registers it. */
  registration?: InstanceRegistration;
}

const rowId = (k: InstanceKey) => `${k.modid}:${k.cmdid}:${k.ip}:${k.port}`;

/** Rows per statement: far below every engine's bound-parameter limit. */
const CHUNK = 200;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function ofKeys(keys: readonly InstanceKey[]) {
  return sql<boolean>`(${sql.join(keys.map((k) => sql`(modid = ${k.modid} and cmdid = ${k.cmdid} and ip = ${k.ip} and port = ${k.port})`), sql` or `)})`;
}

async function existingModules(trx: Kysely<Database>, registrations: readonly ModuleKey[]): Promise<Set<string>> {
  const wanted = [...new Map(registrations.map((r) => [`${r.modid}:${r.cmdid}`, { modid: r.modid, cmdid: r.cmdid }])).values()];
  const found = new Set<string>();
  for (const chunk of chunks(wanted)) {
    const rows = await trx
      .selectFrom('modules')
      .select(['modid', 'cmdid'])
      .where(sql<boolean>`(${sql.join(chunk.map((k) => sql`(modid = ${k.modid} and cmdid = ${k.cmdid})`), sql` or `)})`)
      .execute();
    for (const row of rows) found.add(`${row.modid}:${row.cmdid}`);
  }
  return found;
}

async function currentRows(trx: Kysely<Database>, keys: readonly InstanceKey[]): Promise<Map<string, RowState>> {
  const rows = new Map<string, RowState>();
  const unique = [...new Map(keys.map((k) => [rowId(k), keyOf(k)])).values()];
  for (const chunk of chunks(unique)) {
    const found = await trx.selectFrom('instances').select(['modid', 'cmdid', 'ip', 'port', 'weight', 'owner']).where(ofKeys(chunk)).execute();
    for (const row of found) rows.set(rowId(row), { key: keyOf(row), weight: row.weight, owner: row.owner });
  }
  return rows;
}

/** Writes the difference between the rows before and after a batch: bulk inserts and deletes, an update per re-registered row. */
async function applyRows(trx: Kysely<Database>, before: ReadonlyMap<string, RowState>, after: ReadonlyMap<string, RowState>, owner: string, now: number): Promise<void> {
  const removed = [...before.entries()].filter(([id]) => !after.has(id)).map(([, row]) => row.key);
  for (const chunk of chunks(removed)) await trx.deleteFrom('instances').where(ofKeys(chunk)).execute();
  const lease = (r: InstanceRegistration) => ({ weight: r.weight, ttl_ms: r.ttlMs, metadata: JSON.stringify(r.metadata), owner, heartbeat_at: now, registered_at: now });
  const registered = [...after.entries()].filter(([, row]) => row.registration);
  const inserted = registered.filter(([id]) => !before.has(id)).map(([, row]) => ({ ...row.key, ...lease(row.registration!), revision: 0 }));
  for (const chunk of chunks(inserted)) await trx.insertInto('instances').values(chunk).execute();
  for (const [id, row] of registered) {
    if (before.has(id)) await trx.updateTable('instances').set(lease(row.registration!)).where((eb) => eb.and(row.key)).execute();
  }
}

/** Registered instances (every one, or one module's) in key order, each with the operator's weight; in the caller's transaction. */
export async function selectInstances(db: Kysely<Database>, filter?: ModuleKey, address?: AddressFilter): Promise<InstanceInfo[]> {
  let query = instancesWithOverrides(db)
    .selectAll('i')
    .select('o.weight as override_weight')
    .orderBy('i.modid')
    .orderBy('i.cmdid')
    .orderBy('i.ip')
    .orderBy('i.port');
  if (filter) query = query.where('i.modid', '=', filter.modid).where('i.cmdid', '=', filter.cmdid);
  if (address) query = query.where('i.ip', '=', address.ip);
  if (address?.port !== undefined) query = query.where('i.port', '=', address.port);
  const rows = await query.execute();
  return rows.map((r) => ({
    modid: r.modid,
    cmdid: r.cmdid,
    ip: intToIp(r.ip),
    port: r.port,
    weight: r.override_weight ?? r.weight,
    registeredWeight: r.weight,
    overrideWeight: r.override_weight,
    ttl: r.ttl_ms / 1000,
    lastHeartbeat: r.heartbeat_at,
    registeredAt: r.registered_at,
    owner: r.owner,
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    load:
      r.load_score === null
        ? null
        : { inFlight: r.load_in_flight ?? 0, connections: r.load_connections ?? 0, cpuPermille: r.load_cpu_permille ?? 0, score: r.load_score },
  }));
}

/** Instances (`i`) with the operator's weight for each (`o`, null when none): what people read and what dns serves. */
export function instancesWithOverrides(db: Kysely<Database>) {
  return db
    .selectFrom('instances as i')
    .leftJoin('instance_overrides as o', (join) =>
      join.onRef('o.modid', '=', 'i.modid').onRef('o.cmdid', '=', 'i.cmdid').onRef('o.ip', '=', 'i.ip').onRef('o.port', '=', 'i.port'),
    );
}

export async function readRegistryVersion(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('registry_version').select('version').where('id', '=', 1).executeTakeFirst();
  return row?.version ?? 0;
}

/** The scores written after `revision` (what a dns has not applied yet). */
export function loadsSince(db: Kysely<Database>, revision: number): Promise<InstanceLoadRow[]> {
  return db
    .selectFrom('instances')
    .select(['modid', 'cmdid', 'ip', 'port', 'load_score as score'])
    .where('revision', '>', revision)
    .execute();
}
