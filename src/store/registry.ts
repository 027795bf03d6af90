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
import type { Kysely } from 'kysely';
import { intToIp } from '../protocol/ip.js';
import { appendChanges, lockVersion, readVersion } from './change-log.js';
import type { ChangeAction, Database } from './schema.js';
import { kyselyOf, readConsistently, type Store } from './store.js';
import type { ModuleKey } from './validate.js';

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

  constructor(store: Store, options: InstanceRegistryOptions = {}) {
    this.db = kyselyOf(store);
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Applies a batch of registrations and removals by `owner` in one
   * transaction, and returns each one's outcome in order. The version row is
   * locked first, as every route edit does, then advanced once per change.
   */
  write(owner: string, writes: readonly RegistryWrite[]): Promise<WriteOutcome[]> {
    return this.db.transaction().execute(async (trx) => {
      await lockVersion(trx);
      const now = Math.floor(this.clock() / 1000);
      const modules = new Map<string, boolean>();
      const changes: PendingChange[] = [];
      const outcomes: WriteOutcome[] = [];
      for (const write of writes) {
        if (write.kind === 'register') {
          outcomes.push(await this.register(trx, owner, write.instance, now, modules, changes));
        } else {
          outcomes.push(await this.remove(trx, owner, write.kind, write.key, write.reason, changes));
        }
      }
      await appendChanges(trx, changes.map((c) => ({ ...c, actor: ACTOR, changedAt: now })));
      return outcomes;
    });
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
  async beat(node: { nodeId: string; address: string; startedAt: number }): Promise<void> {
    const now = Math.floor(this.clock() / 1000);
    const result = await this.db
      .updateTable('dns_nodes')
      .set((eb) => ({ beats: eb('beats', '+', 1), heartbeat_at: now, address: node.address }))
      .where('node_id', '=', node.nodeId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return;
    await this.db
      .insertInto('dns_nodes')
      .values({ node_id: node.nodeId, address: node.address, started_at: Math.floor(node.startedAt / 1000), heartbeat_at: now, beats: 1 })
      .execute();
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
    return readConsistently(this.db, async (trx) => {
      let query = trx
        .selectFrom('instances as i')
        .leftJoin('instance_overrides as o', (join) =>
          join.onRef('o.modid', '=', 'i.modid').onRef('o.cmdid', '=', 'i.cmdid').onRef('o.ip', '=', 'i.ip').onRef('o.port', '=', 'i.port'),
        )
        .selectAll('i')
        .select('o.weight as override_weight')
        .orderBy('i.modid')
        .orderBy('i.cmdid')
        .orderBy('i.ip')
        .orderBy('i.port');
      if (filter) query = query.where('i.modid', '=', filter.modid).where('i.cmdid', '=', filter.cmdid);
      const rows = await query.execute();
      const instances = rows.map((r) => ({
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
      return { version: await readVersion(trx), instances };
    });
  }

  private async register(
    trx: Kysely<Database>,
    owner: string,
    instance: InstanceRegistration,
    now: number,
    modules: Map<string, boolean>,
    changes: PendingChange[],
  ): Promise<WriteOutcome> {
    const moduleKey = `${instance.modid}:${instance.cmdid}`;
    let exists = modules.get(moduleKey);
    if (exists === undefined) {
      const row = await trx.selectFrom('modules').select('modid').where('modid', '=', instance.modid).where('cmdid', '=', instance.cmdid).executeTakeFirst();
      modules.set(moduleKey, (exists = row !== undefined));
    }
    if (!exists) return 'no-module';
    const key = keyOf(instance);
    const lease = { weight: instance.weight, ttl_ms: instance.ttlMs, metadata: JSON.stringify(instance.metadata), owner, heartbeat_at: now };
    const before = await trx.selectFrom('instances').select('weight').where((eb) => eb.and(key)).executeTakeFirst();
    const detail = `${instanceName(key)} weight ${instance.weight}, ttl ${instance.ttlMs} ms, by dns ${owner}`;
    if (!before) {
      await trx.insertInto('instances').values({ ...key, ...lease, registered_at: now, revision: 0 }).execute();
      changes.push({ ...key, action: 'register', detail });
      return 'written';
    }
    // The same instance again (a restarted server, or one that moved to this dns): agents see no change unless its weight moved.
    await trx.updateTable('instances').set({ ...lease, registered_at: now }).where((eb) => eb.and(key)).execute();
    if (before.weight !== instance.weight) changes.push({ ...key, action: 'register', detail: `${detail} (weight was ${before.weight})` });
    return 'written';
  }

  private async remove(
    trx: Kysely<Database>,
    owner: string,
    action: 'deregister' | 'expire',
    key: InstanceKey,
    reason: string,
    changes: PendingChange[],
  ): Promise<WriteOutcome> {
    const result = await trx
      .deleteFrom('instances')
      .where((eb) => eb.and({ ...keyOf(key), owner }))
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) return 'not-owned';
    changes.push({ ...keyOf(key), action, detail: `${instanceName(key)}: ${reason}` });
    return 'written';
  }
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
