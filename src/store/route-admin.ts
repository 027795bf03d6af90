/**
 * Route administration: the one module through which the CLI and the web
 * console change and read modules and routes. Input is validated before the
 * store is touched; every edit is one transaction that changes the rows,
 * bumps the route version and appends one change-log row, and returns the
 * new version. Every read for people is one consistent read that also
 * returns the route version it saw.
 */
import type { Kysely } from 'kysely';
import { intToIp } from '../protocol/ip.js';
import { appendChange, appendChanges, bumpVersion, ChangeLog, lockVersion, readVersion } from './change-log.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { selectInstances, type InstanceInfo } from './registry.js';
import type { ChangeAction, Database } from './schema.js';
import {
  applyPlanned,
  checkRouteDocument,
  documentOfSnapshot,
  hostId,
  moduleId,
  planImport,
  ROUTE_DOCUMENT_FORMAT,
  ROUTE_DOCUMENT_VERSION,
  snapshotOf,
  type CurrentModule,
  type PlannedEdit,
  type PlanOptions,
  type RouteDocument,
  type RouteSnapshot,
  type WantedModule,
} from './route-document.js';
import { statementChunks } from './dialects/parameters.js';
import { instanceViews, servedHosts, type InstanceView, type ServedHostInfo } from './served-hosts.js';
import { kyselyOf, readConsistently, type Store } from './store.js';
import type { StoreKind } from './url.js';
import {
  checkActor,
  checkAddress,
  checkDescription,
  checkHostKey,
  checkModuleKey,
  checkStrategy,
  checkWeight,
  DEFAULT_STRATEGY,
  DEFAULT_WEIGHT,
  type AddressFilter,
  type HostKey,
  type ModuleKey,
} from './validate.js';

export interface ModuleInput {
  modid: number;
  cmdid: number;
  description?: string;
  /**
   * The balancing strategy every agent runs for this route: a STRATEGY_NAMES
   * name, or null or "default" for each agent's own [loadbalance] strategy
   * (docs/balancer.md, "Per-route strategy").
   */
  strategy?: string | null;
}

export interface HostRef {
  modid: number;
  cmdid: number;
  /** Dotted IPv4. */
  ip: string;
  port: number;
}

/** A host to add or re-weigh, as people write it (the balancer's HostInput carries the wire's int ip). */
export interface HostSpec extends HostRef {
  weight?: number;
}

export interface ModuleInfo {
  modid: number;
  cmdid: number;
  description: string;
  /** The module's strategy; null: each agent's own. */
  strategy: string | null;
  /** Unix seconds. */
  createdAt: number;
  updatedAt: number;
}

export interface ModuleSummary extends ModuleInfo {
  /** Number of route hosts. */
  hosts: number;
}

/** One host of a route, for people. */
export interface RouteHostInfo {
  modid: number;
  cmdid: number;
  /** Dotted IPv4. */
  ip: string;
  port: number;
  /** The operator's weight; while drained dns serves 0 instead and this waits for the undrain. */
  weight: number;
  /** Out of rotation for maintenance (drainHost); a registered instance is drained when its weight is 0. */
  drained: boolean;
  createdAt: number;
  updatedAt: number;
}

/** One module with its hosts, as of one route version. */
export interface RouteView {
  version: number;
  module: ModuleInfo;
  hosts: RouteHostInfo[];
}

export interface RouteAdminOptions {
  /** Unix milliseconds; injected by tests. */
  clock?: () => number;
}

/** Who and what an edit is about, for the change log. */
interface EditTarget extends ModuleKey {
  action: ChangeAction;
  actor: string | null;
}

const moduleOf = (key: ModuleKey): ModuleKey => ({ modid: key.modid, cmdid: key.cmdid });
const moduleName = (key: ModuleKey) => `module ${key.modid}:${key.cmdid}`;
const hostName = (key: HostKey) => `${intToIp(key.ip)}:${key.port}`;
const strategyName = (strategy: string | null) => strategy ?? DEFAULT_STRATEGY;

async function findModule(db: Kysely<Database>, key: ModuleKey): Promise<ModuleInfo | undefined> {
  const row = await db
    .selectFrom('modules')
    .select(['modid', 'cmdid', 'description', 'strategy', 'created_at', 'updated_at'])
    .where((eb) => eb.and(moduleOf(key)))
    .executeTakeFirst();
  return row && { modid: row.modid, cmdid: row.cmdid, description: row.description, strategy: row.strategy, createdAt: row.created_at, updatedAt: row.updated_at };
}

function findHost(db: Kysely<Database>, key: HostKey) {
  return db.selectFrom('routes').select(['weight', 'drained']).where((eb) => eb.and(key)).executeTakeFirst();
}

/** All hosts, or one module's, or those at one address, ordered by modid, cmdid, ip, port. */
async function selectHosts(db: Kysely<Database>, filter?: ModuleKey, address?: AddressFilter): Promise<RouteHostInfo[]> {
  let query = db
    .selectFrom('routes')
    .select(['modid', 'cmdid', 'ip', 'port', 'weight', 'drained', 'created_at', 'updated_at'])
    .orderBy('modid')
    .orderBy('cmdid')
    .orderBy('ip')
    .orderBy('port');
  if (filter) query = query.where((eb) => eb.and(moduleOf(filter)));
  if (address) query = query.where('ip', '=', address.ip);
  if (address?.port !== undefined) query = query.where('port', '=', address.port);
  const rows = await query.execute();
  return rows.map((r) => ({
    modid: r.modid,
    cmdid: r.cmdid,
    ip: intToIp(r.ip),
    port: r.port,
    weight: r.weight,
    drained: Number(r.drained) !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

/** What an import did (or, in a dry run, would do): one entry per change-log row, in order. */
export interface ImportResult {
  dryRun: boolean;
  /** The route version after the import (before it, in a dry run). */
  version: number;
  edits: { action: PlannedEdit['action']; modid: number; cmdid: number; detail: string }[];
}

const editView = (e: PlannedEdit) => ({ action: e.action, modid: e.key.modid, cmdid: e.key.cmdid, detail: e.detail });

/** Every module with its hosts (or one module's), as an import plans against them and a change-log snapshot records them. */
async function currentModules(db: Kysely<Database>, only?: ModuleKey): Promise<Map<string, CurrentModule>> {
  const current = new Map<string, CurrentModule>();
  let modules = db.selectFrom('modules').select(['modid', 'cmdid', 'description', 'strategy']);
  let routes = db.selectFrom('routes').select(['modid', 'cmdid', 'ip', 'port', 'weight', 'drained']);
  if (only) {
    modules = modules.where((eb) => eb.and(moduleOf(only)));
    routes = routes.where((eb) => eb.and(moduleOf(only)));
  }
  for (const m of await modules.execute()) {
    current.set(moduleId(m), { description: m.description, strategy: m.strategy, hosts: new Map() });
  }
  for (const r of await routes.execute()) {
    current.get(moduleId(r))?.hosts.set(hostId({ ip: Number(r.ip), port: r.port }), { weight: r.weight, drained: Number(r.drained) !== 0 });
  }
  return current;
}

/** An edit that changes rows already there: one statement each. */
async function applyChange(trx: Kysely<Database>, edit: Exclude<PlannedEdit, { action: 'module-add' | 'add' }>, now: number): Promise<void> {
  switch (edit.action) {
    case 'module-update':
      await trx.updateTable('modules').set({ description: edit.description, strategy: edit.strategy, updated_at: now }).where((eb) => eb.and(moduleOf(edit.key))).execute();
      return;
    case 'drain':
    case 'undrain':
      await trx.updateTable('routes').set({ drained: edit.action === 'drain' ? 1 : 0, updated_at: now }).where((eb) => eb.and(edit.key)).execute();
      return;
    case 'update':
      await trx.updateTable('routes').set({ weight: edit.weight, updated_at: now }).where((eb) => eb.and(edit.key)).execute();
      return;
    case 'del':
      await trx.deleteFrom('routes').where((eb) => eb.and(edit.key)).execute();
  }
}

/**
 * Applies an import's edits: the new modules, then the new hosts, as
 * multi-row inserts (dialects/parameters.ts), then each change to rows already
 * there. The plan never adds and changes the same row, and never deletes a
 * module, so this order has the outcome of the planned one.
 */
async function applyEdits(trx: Kysely<Database>, kind: StoreKind, edits: readonly PlannedEdit[], now: number): Promise<void> {
  const stamps = { created_at: now, updated_at: now };
  const modules = edits.flatMap((e) => (e.action === 'module-add' ? [{ ...e.key, description: e.description, strategy: e.strategy, ...stamps }] : []));
  const hosts = edits.flatMap((e) => (e.action === 'add' ? [{ ...e.key, weight: e.weight, drained: e.drained ? 1 : 0, ...stamps }] : []));
  for (const chunk of statementChunks(kind, modules)) await trx.insertInto('modules').values(chunk).execute();
  for (const chunk of statementChunks(kind, hosts)) await trx.insertInto('routes').values(chunk).execute();
  for (const edit of edits) if (edit.action !== 'module-add' && edit.action !== 'add') await applyChange(trx, edit, now);
}

/** What an import does beside its route edits, in the same transaction (or, in a dry run, the same read). */
export type ImportAlongside<S> = (trx: Kysely<Database>, run: { dryRun: boolean; now: number; edits: readonly PlannedEdit[] }) => Promise<S>;

/**
 * Plans the checked modules against the store and, unless dryRun, applies the
 * plan in one transaction: one route version and change-log row per edit,
 * like the single edits, with each module's state recorded on its last edit.
 * `alongside` runs last in the same transaction (or read). A run that edited
 * routes is announced on the store's change feed once it committed
 * (docs/dns.md, "Notification").
 */
export async function runImport<S = undefined>(
  store: Store,
  wanted: readonly WantedModule[],
  who: string | null,
  options: { dryRun?: boolean; now: number } & PlanOptions,
  alongside?: ImportAlongside<S>,
): Promise<{ result: ImportResult; alongside: S | undefined }> {
  const { now } = options;
  const db = kyselyOf(store);
  if (options.dryRun) {
    return readConsistently(db, async (trx) => {
      const edits = planImport(wanted, await currentModules(trx), options);
      return { result: { dryRun: true, version: await readVersion(trx), edits: edits.map(editView) }, alongside: await alongside?.(trx, { dryRun: true, now, edits }) };
    });
  }
  const run = await db.transaction().execute(async (trx) => {
    await lockVersion(trx);
    const current = await currentModules(trx);
    const edits = planImport(wanted, current, options);
    await applyEdits(trx, store.kind, edits, now);
    for (const edit of edits) applyPlanned(current, edit);
    // Only a module's last edit records its state: a snapshot per edit of a big module would cost its size times its edits.
    const last = new Map(edits.map((e, i) => [moduleId(e.key), i]));
    const changes = edits.map((e, i) => ({
      modid: e.key.modid,
      cmdid: e.key.cmdid,
      action: e.action,
      detail: e.detail,
      actor: who,
      changedAt: now,
      snapshot: last.get(moduleId(e.key)) === i ? snapshotOf(current.get(moduleId(e.key))) : null,
    }));
    await appendChanges(trx, changes);
    const extra = await alongside?.(trx, { dryRun: false, now, edits });
    return { result: { dryRun: false, version: await readVersion(trx), edits: edits.map(editView) }, alongside: extra };
  });
  if (run.result.edits.length > 0) store.changes.publish(run.result.version);
  return run;
}

export class RouteAdmin {
  private readonly db: Kysely<Database>;
  private readonly clock: () => number;

  private readonly changes: ChangeLog;
  private readonly store: Store;

  constructor(store: Store, options: RouteAdminOptions = {}) {
    this.db = kyselyOf(store);
    this.store = store;
    this.changes = new ChangeLog(store);
    this.clock = options.clock ?? Date.now;
  }

  /** The current route version. */
  version(): Promise<number> {
    return readVersion(this.db);
  }

  async addModule(input: ModuleInput, actor?: string | null): Promise<number> {
    const key = checkModuleKey(input);
    const description = checkDescription(input.description ?? '');
    const strategy = checkStrategy(input.strategy ?? null);
    const target = { ...key, action: 'module-add' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx, now) => {
      if (await findModule(trx, key)) throw new ConflictError(`${moduleName(key)} already exists`);
      await trx.insertInto('modules').values({ ...key, description, strategy, created_at: now, updated_at: now }).execute();
      return [description && `description ${JSON.stringify(description)}`, strategy && `strategy ${strategy}`].filter(Boolean).join('; ');
    });
  }

  /**
   * Changes what is given of the description and the strategy (at least one).
   * A new strategy reaches every agent as a route change: dns pushes it.
   */
  async updateModule(input: ModuleInput, actor?: string | null): Promise<number> {
    const key = checkModuleKey(input);
    if (input.description === undefined && input.strategy === undefined) {
      throw new ValidationError('description', 'nothing to change: give a description, a strategy or both');
    }
    const description = input.description === undefined ? undefined : checkDescription(input.description);
    const strategy = input.strategy === undefined ? undefined : checkStrategy(input.strategy);
    const target = { ...key, action: 'module-update' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx, now) => {
      const before = await findModule(trx, key);
      if (!before) throw new NotFoundError(`${moduleName(key)} does not exist`);
      await trx.updateTable('modules').set({ description, strategy, updated_at: now }).where((eb) => eb.and(moduleOf(key))).execute();
      const details = [];
      if (description !== undefined) details.push(`description ${JSON.stringify(before.description)} -> ${JSON.stringify(description)}`);
      if (strategy !== undefined) details.push(`strategy ${strategyName(before.strategy)} -> ${strategyName(strategy)}`);
      return details.join('; ');
    });
  }

  /** Deletes the module and all its hosts. */
  async delModule(modid: number, cmdid: number, actor?: string | null): Promise<number> {
    const key = checkModuleKey({ modid, cmdid });
    const target = { ...key, action: 'module-del' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx) => {
      if (!(await findModule(trx, key))) throw new NotFoundError(`${moduleName(key)} does not exist`);
      const hosts = await trx.deleteFrom('routes').where((eb) => eb.and(moduleOf(key))).executeTakeFirst();
      await trx.deleteFrom('modules').where((eb) => eb.and(moduleOf(key))).execute();
      return `removed with ${Number(hosts.numDeletedRows)} hosts`;
    });
  }

  /** Every module in key order with its number of hosts. */
  listModules(): Promise<{ version: number; modules: ModuleSummary[] }> {
    return readConsistently(this.db, async (trx) => {
      const rows = await trx
        .selectFrom('modules as m')
        .leftJoin('routes as r', (join) => join.onRef('r.modid', '=', 'm.modid').onRef('r.cmdid', '=', 'm.cmdid'))
        .select(['m.modid', 'm.cmdid', 'm.description', 'm.strategy', 'm.created_at', 'm.updated_at'])
        .select((eb) => eb.fn.count<number>('r.ip').as('hosts'))
        .groupBy(['m.modid', 'm.cmdid', 'm.description', 'm.strategy', 'm.created_at', 'm.updated_at'])
        .orderBy('m.modid')
        .orderBy('m.cmdid')
        .execute();
      const modules = rows.map((r) => ({
        modid: r.modid,
        cmdid: r.cmdid,
        description: r.description,
        strategy: r.strategy,
        hosts: Number(r.hosts),
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }));
      return { version: await readVersion(trx), modules };
    });
  }

  /** One module, or undefined when it does not exist. */
  async findModule(modid: number, cmdid: number): Promise<ModuleInfo | undefined> {
    return findModule(this.db, checkModuleKey({ modid, cmdid }));
  }

  /** One module and its hosts, or undefined when the module does not exist. */
  async readRoute(modid: number, cmdid: number): Promise<RouteView | undefined> {
    const key = checkModuleKey({ modid, cmdid });
    return readConsistently(this.db, async (trx) => {
      const module = await findModule(trx, key);
      if (!module) return undefined;
      return { version: await readVersion(trx), module, hosts: await selectHosts(trx, key) };
    });
  }

  /** All hosts, or one module's (no error when it has none or does not exist), ordered by modid, cmdid, ip, port. */
  async listHosts(filter?: ModuleKey): Promise<{ version: number; hosts: RouteHostInfo[] }> {
    const key = filter && checkModuleKey(filter);
    return readConsistently(this.db, async (trx) => ({ version: await readVersion(trx), hosts: await selectHosts(trx, key) }));
  }

  /**
   * What dns serves, all of it or one module's: the configured hosts and the
   * live registered instances (docs/registry.md), in one consistent read.
   */
  async listServedHosts(filter?: ModuleKey): Promise<{ version: number; hosts: ServedHostInfo[] }> {
    const { version, combined } = await this.readWithInstances(filter, servedHosts);
    return { version, hosts: combined };
  }

  /**
   * Every host dns serves at one address (and port), in every module: the
   * configured hosts and the registered instances, as listServedHosts shows them.
   */
  async findServedHosts(query: { ip: unknown; port?: unknown }): Promise<{ version: number; hosts: ServedHostInfo[] }> {
    const { version, combined } = await this.readWithInstances(undefined, servedHosts, checkAddress(query));
    return { version, hosts: combined };
  }

  /** The registered instances, all or one module's, each marked drained and shadowed (by a configured host), in one consistent read. */
  async listInstances(filter?: ModuleKey): Promise<{ version: number; instances: InstanceView[] }> {
    const { version, combined } = await this.readWithInstances(filter, instanceViews);
    return { version, instances: combined };
  }

  /** The module must exist (NotFoundError otherwise): a typo in modid must not silently create a new service. */
  async addHost(input: HostSpec, actor?: string | null): Promise<number> {
    const key = checkHostKey(input);
    const weight = checkWeight(input.weight ?? DEFAULT_WEIGHT);
    const target = { ...key, action: 'add' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx, now) => {
      if (!(await findModule(trx, key))) throw new NotFoundError(`${moduleName(key)} does not exist`);
      if (await findHost(trx, key)) throw new ConflictError(`host ${hostName(key)} is already in ${moduleName(key)}`);
      await trx.insertInto('routes').values({ ...key, weight, created_at: now, updated_at: now }).execute();
      return `${hostName(key)} weight ${weight}`;
    });
  }

  async updateHost(input: Required<HostSpec>, actor?: string | null): Promise<number> {
    const key = checkHostKey(input);
    const weight = checkWeight(input.weight);
    const target = { ...key, action: 'update' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx, now) => {
      const before = await findHost(trx, key);
      if (!before) throw new NotFoundError(`host ${hostName(key)} is not in ${moduleName(key)}`);
      await trx.updateTable('routes').set({ weight, updated_at: now }).where((eb) => eb.and(key)).execute();
      return `${hostName(key)} weight ${before.weight} -> ${weight}${before.drained ? ' (drained: served 0 until undrained)' : ''}`;
    });
  }

  /**
   * Takes a configured host out of rotation for maintenance: dns serves it
   * with weight 0 (agents send it no new calls) and its weight is kept for
   * undrainHost (docs/store.md, "Draining a host").
   */
  async drainHost(input: HostRef, actor?: string | null): Promise<number> {
    return this.setDrained(input, true, actor);
  }

  /** Puts a drained host back with the weight it had. */
  async undrainHost(input: HostRef, actor?: string | null): Promise<number> {
    return this.setDrained(input, false, actor);
  }

  private async setDrained(input: HostRef, drained: boolean, actor: string | null | undefined): Promise<number> {
    const key = checkHostKey(input);
    const target = { ...key, action: drained ? ('drain' as const) : ('undrain' as const), actor: checkActor(actor) };
    return this.edit(target, async (trx, now) => {
      const before = await findHost(trx, key);
      if (!before) throw new NotFoundError(`host ${hostName(key)} is not in ${moduleName(key)}`);
      if ((Number(before.drained) !== 0) === drained) throw new ConflictError(`host ${hostName(key)} of ${moduleName(key)} is ${drained ? 'already' : 'not'} drained`);
      await trx.updateTable('routes').set({ drained: drained ? 1 : 0, updated_at: now }).where((eb) => eb.and(key)).execute();
      return drained ? `${hostName(key)} drained (weight ${before.weight} kept)` : `${hostName(key)} undrained: weight ${before.weight}`;
    });
  }

  async delHost(input: HostRef, actor?: string | null): Promise<number> {
    const key = checkHostKey(input);
    const target = { ...key, action: 'del' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx) => {
      const before = await findHost(trx, key);
      if (!before) throw new NotFoundError(`host ${hostName(key)} is not in ${moduleName(key)}`);
      await trx.deleteFrom('routes').where((eb) => eb.and(key)).execute();
      return `${hostName(key)} weight ${before.weight}`;
    });
  }

  /**
   * An operator's weight for a registered instance (docs/registry.md): 0
   * drains it. Kept apart from the instance, so it holds across the
   * instance's re-registrations and even before it registers.
   */
  async setInstanceWeight(input: Required<HostSpec>, actor?: string | null): Promise<number> {
    const key = checkHostKey(input);
    const weight = checkWeight(input.weight);
    const target = { ...key, action: 'drain' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx, now) => {
      if (!(await findModule(trx, key))) throw new NotFoundError(`${moduleName(key)} does not exist`);
      const before = await trx.selectFrom('instance_overrides').select('weight').where((eb) => eb.and(key)).executeTakeFirst();
      if (before) await trx.updateTable('instance_overrides').set({ weight, updated_at: now }).where((eb) => eb.and(key)).execute();
      else await trx.insertInto('instance_overrides').values({ ...key, weight, updated_at: now }).execute();
      return `${hostName(key)} operator weight ${before ? `${before.weight} -> ` : ''}${weight}${weight === 0 ? ' (drained)' : ''}`;
    });
  }

  /** Drops the operator's weight: the instance serves with the weight it registers. */
  async clearInstanceWeight(input: HostRef, actor?: string | null): Promise<number> {
    const key = checkHostKey(input);
    const target = { ...key, action: 'undrain' as const, actor: checkActor(actor) };
    return this.edit(target, async (trx) => {
      const before = await trx.selectFrom('instance_overrides').select('weight').where((eb) => eb.and(key)).executeTakeFirst();
      if (!before) throw new NotFoundError(`instance ${hostName(key)} of ${moduleName(key)} has no operator weight`);
      await trx.deleteFrom('instance_overrides').where((eb) => eb.and(key)).execute();
      return `${hostName(key)} operator weight ${before.weight} removed`;
    });
  }

  /**
   * Every module with its configured hosts as one document (docs/store.md,
   * "Export and import"); registered instances are the servers' own and are
   * left out.
   */
  exportRoutes(): Promise<RouteDocument> {
    return readConsistently(this.db, async (trx) => {
      const modules = await trx.selectFrom('modules').select(['modid', 'cmdid', 'description', 'strategy']).orderBy('modid').orderBy('cmdid').execute();
      const hosts = new Map<string, { ip: string; port: number; weight: number; drained?: true }[]>();
      for (const h of await selectHosts(trx)) {
        const id = moduleId(h);
        if (!hosts.has(id)) hosts.set(id, []);
        hosts.get(id)!.push({ ip: h.ip, port: h.port, weight: h.weight, ...(h.drained ? { drained: true as const } : {}) });
      }
      return {
        format: ROUTE_DOCUMENT_FORMAT,
        formatVersion: ROUTE_DOCUMENT_VERSION,
        version: await readVersion(trx),
        exportedAt: Math.floor(this.clock() / 1000),
        modules: modules.map((m) => ({ modid: m.modid, cmdid: m.cmdid, description: m.description, strategy: m.strategy, hosts: hosts.get(moduleId(m)) ?? [] })),
      };
    });
  }

  /**
   * Makes the store hold what a document states, all or nothing: the whole
   * document is checked first (ValidationError naming its place), then the
   * edits are planned against the store and applied in one transaction, one
   * route version and change-log row each, like the single edits. With
   * dryRun the plan is returned and nothing is written.
   */
  async importRoutes(doc: unknown, actor: string | null | undefined, options: { dryRun?: boolean } & PlanOptions = {}): Promise<ImportResult> {
    return (await runImport(this.store, checkRouteDocument(doc), checkActor(actor), { ...options, now: Math.floor(this.clock() / 1000) })).result;
  }

  /**
   * Puts a module back as the change log recorded it at `version` (its
   * description, strategy and configured hosts with their weights and
   * drains; registered instances are the servers' own): the newest recorded
   * state at or before that version, applied as a prune-import of it, so a
   * dry run shows the diff. NotFoundError when no state is recorded there
   * (before migration 0006, or pruned); ConflictError when the module did not
   * exist then.
   */
  async revertModule(modid: number, cmdid: number, version: number, actor: string | null | undefined, options: { dryRun?: boolean } = {}): Promise<ImportResult & { revertedTo: number }> {
    const key = checkModuleKey({ modid, cmdid });
    if (!Number.isSafeInteger(version) || version < 1) throw new ValidationError('version', `must be a route version (an integer from 1), got ${JSON.stringify(version)}`);
    const at = await this.changes.snapshotAt(key.modid, key.cmdid, version);
    if (!at) throw new NotFoundError(`no recorded state of ${moduleName(key)} at version ${version} (changes before migration 0006 or pruned ones have none)`);
    if (at.snapshot === null) {
      throw new NotFoundError(`no recorded state of ${moduleName(key)} at version ${version}: version ${at.version} is from before migration 0006 or inside an import (an import records its last edit per module)`);
    }
    const snapshot = JSON.parse(at.snapshot) as RouteSnapshot;
    if (snapshot === null) throw new ConflictError(`${moduleName(key)} did not exist at version ${version} (deleted at version ${at.version}); delete it instead`);
    const result = await this.importRoutes(documentOfSnapshot(key, snapshot), actor, { dryRun: options.dryRun, prune: true, note: `reverted to version ${at.version}`, pruneNote: `not in version ${at.version}` });
    return { ...result, revertedTo: at.version };
  }

  /** The configured hosts and the registered instances read together, and combined for people. */
  private readWithInstances<T>(
    filter: ModuleKey | undefined,
    combine: (configured: RouteHostInfo[], instances: InstanceInfo[]) => T,
    address?: AddressFilter,
  ): Promise<{ version: number; combined: T }> {
    const key = filter && checkModuleKey(filter);
    return readConsistently(this.db, async (trx) => ({
      version: await readVersion(trx),
      combined: combine(await selectHosts(trx, key, address), await selectInstances(trx, key, address)),
    }));
  }

  /**
   * One edit transaction: version first (it orders concurrent edits), then
   * the change, then its log row with the module as it left it; announced
   * once committed, so whoever hears of it can read it.
   */
  private async edit(target: EditTarget, change: (trx: Kysely<Database>, now: number) => Promise<string>): Promise<number> {
    const committed = await this.db.transaction().execute(async (trx) => {
      const version = await bumpVersion(trx);
      const now = Math.floor(this.clock() / 1000);
      const detail = await change(trx, now);
      await appendChange(trx, {
        version,
        modid: target.modid,
        cmdid: target.cmdid,
        action: target.action,
        detail,
        actor: target.actor,
        changedAt: now,
        snapshot: snapshotOf((await currentModules(trx, target)).get(moduleId(target))),
      });
      return version;
    });
    this.store.changes.publish(committed);
    return committed;
  }
}
