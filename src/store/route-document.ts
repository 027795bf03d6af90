/**
 * Modules and routes as one JSON document (docs/store.md, "Export and
 * import"): what `lars export` writes and `lars import json` and the
 * console's import read. Pure: checking a document and planning it against
 * the store's current modules are separate from applying the plan
 * (RouteAdmin.importRoutes), so a dry run shows exactly what a real run does.
 */
import type { StrategyName } from '../balancer/types.js';
import { intToIp } from '../protocol/ip.js';
import { ValidationError } from './errors.js';
import { checkDescription, checkHostKey, checkModuleKey, checkStrategy, checkWeight, DEFAULT_STRATEGY, DEFAULT_WEIGHT, type HostKey, type ModuleKey } from './validate.js';

export const ROUTE_DOCUMENT_FORMAT = 'lars-routes';
export const ROUTE_DOCUMENT_VERSION = 1;

export interface DocumentHost {
  ip: string;
  port: number;
  weight?: number;
  /** Out of rotation for maintenance (written only when true; absent on import: left as it is). */
  drained?: boolean;
}

export interface DocumentModule {
  modid: number;
  cmdid: number;
  description?: string;
  /** null or "default": each agent's own strategy. */
  strategy?: string | null;
  hosts?: DocumentHost[];
}

export interface RouteDocument {
  format: typeof ROUTE_DOCUMENT_FORMAT;
  formatVersion: typeof ROUTE_DOCUMENT_VERSION;
  /** The store's route version when exported; informative. */
  version?: number;
  /** Unix seconds; informative. */
  exportedAt?: number;
  modules: DocumentModule[];
}

/** A module of a checked document: what it states, and only that (an absent field leaves the store's value alone). */
export interface WantedModule {
  key: ModuleKey;
  description?: string;
  strategy?: StrategyName | null;
  hosts?: { key: HostKey; weight?: number; drained?: boolean }[];
}

/** A module as the store holds it now. */
export interface CurrentModule {
  description: string;
  strategy: string | null;
  /** hostId -> the host's weight and whether it is drained. */
  hosts: Map<string, { weight: number; drained: boolean }>;
}

export type PlannedEdit =
  | { action: 'module-add'; key: ModuleKey; description: string; strategy: StrategyName | null; detail: string }
  | { action: 'module-update'; key: ModuleKey; description?: string; strategy?: StrategyName | null; detail: string }
  | { action: 'add'; key: HostKey; weight: number; drained: boolean; detail: string }
  | { action: 'update'; key: HostKey; weight: number; detail: string }
  | { action: 'drain' | 'undrain' | 'del'; key: HostKey; detail: string };

export const moduleId = (key: ModuleKey) => `${key.modid}:${key.cmdid}`;
export const hostId = (key: { ip: number; port: number }) => `${key.ip}:${key.port}`;
const hostName = (key: { ip: number; port: number }) => `${intToIp(key.ip)}:${key.port}`;

/** Runs a check and names the failing field by its place in the document (modules.3.hosts.0.ip). */
function at<T>(path: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`${path}.${err.field}`, err.message.slice(err.field.length + 2));
    throw err;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKnownFields(path: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const name of Object.keys(value)) if (!known.includes(name)) throw new ValidationError(path ? `${path}.${name}` : name, 'is not a known field');
}

const MODULE_FIELDS = ['modid', 'cmdid', 'description', 'strategy', 'hosts'] as const;
const HOST_FIELDS = ['ip', 'port', 'weight', 'drained'] as const;

function checkModule(path: string, value: unknown): WantedModule {
  if (!isObject(value)) throw new ValidationError(path, 'must be an object');
  checkKnownFields(path, value, MODULE_FIELDS);
  const key = at(path, () => checkModuleKey({ modid: value.modid, cmdid: value.cmdid }));
  const wanted: WantedModule = { key };
  if (value.description !== undefined) wanted.description = at(path, () => checkDescription(value.description));
  if (value.strategy !== undefined) wanted.strategy = at(path, () => checkStrategy(value.strategy));
  if (value.hosts !== undefined) {
    if (!Array.isArray(value.hosts)) throw new ValidationError(`${path}.hosts`, 'must be an array');
    const seen = new Set<string>();
    wanted.hosts = value.hosts.map((host: unknown, j) => {
      const hostPath = `${path}.hosts.${j}`;
      if (!isObject(host)) throw new ValidationError(hostPath, 'must be an object');
      checkKnownFields(hostPath, host, HOST_FIELDS);
      const hostKey = at(hostPath, () => checkHostKey({ ...key, ip: host.ip, port: host.port }));
      if (seen.has(hostId(hostKey))) throw new ValidationError(hostPath, `${hostName(hostKey)} is listed twice in module ${moduleId(key)}`);
      seen.add(hostId(hostKey));
      if (host.drained !== undefined && typeof host.drained !== 'boolean') throw new ValidationError(`${hostPath}.drained`, `must be true or false, got ${JSON.stringify(host.drained)}`);
      return {
        key: hostKey,
        ...(host.weight === undefined ? {} : { weight: at(hostPath, () => checkWeight(host.weight)) }),
        ...(host.drained === undefined ? {} : { drained: host.drained }),
      };
    });
  }
  return wanted;
}

/** The whole document, checked before anything is read or written; the first problem is a ValidationError naming its place. */
export function checkRouteDocument(doc: unknown): WantedModule[] {
  if (!isObject(doc)) throw new ValidationError('document', `must be a JSON object with "format": "${ROUTE_DOCUMENT_FORMAT}"`);
  checkKnownFields('', doc, ['format', 'formatVersion', 'version', 'exportedAt', 'modules']);
  if (doc.format !== ROUTE_DOCUMENT_FORMAT) throw new ValidationError('format', `must be "${ROUTE_DOCUMENT_FORMAT}", got ${JSON.stringify(doc.format)}`);
  if (doc.formatVersion !== ROUTE_DOCUMENT_VERSION) {
    throw new ValidationError('formatVersion', `must be ${ROUTE_DOCUMENT_VERSION} (this build reads that version), got ${JSON.stringify(doc.formatVersion)}`);
  }
  if (!Array.isArray(doc.modules)) throw new ValidationError('modules', 'must be an array');
  const seen = new Set<string>();
  return doc.modules.map((value: unknown, i) => {
    const wanted = checkModule(`modules.${i}`, value);
    if (seen.has(moduleId(wanted.key))) throw new ValidationError(`modules.${i}`, `module ${moduleId(wanted.key)} is listed twice`);
    seen.add(moduleId(wanted.key));
    return wanted;
  });
}

const strategyText = (strategy: string | null) => strategy ?? DEFAULT_STRATEGY;

export interface PlanOptions {
  /** Also remove hosts of a listed module that the document does not list. */
  prune?: boolean;
  /** Ends each edit's change-log detail: "imported", or "reverted to version 12". */
  note?: string;
  /** Ends a pruned host's detail. */
  pruneNote?: string;
}

function planModule(wanted: WantedModule, current: CurrentModule | undefined, how: Required<PlanOptions>): PlannedEdit[] {
  const { note } = how;
  const { key } = wanted;
  const edits: PlannedEdit[] = [];
  if (current === undefined) {
    const description = wanted.description ?? '';
    const strategy = wanted.strategy ?? null;
    const detail = [description && `description ${JSON.stringify(description)}`, strategy && `strategy ${strategy}`, note].filter(Boolean).join('; ');
    edits.push({ action: 'module-add', key, description, strategy, detail });
  } else {
    const description = wanted.description !== undefined && wanted.description !== current.description ? wanted.description : undefined;
    const strategy = wanted.strategy !== undefined && wanted.strategy !== current.strategy ? wanted.strategy : undefined;
    if (description !== undefined || strategy !== undefined) {
      const details = [];
      if (description !== undefined) details.push(`description ${JSON.stringify(current.description)} -> ${JSON.stringify(description)}`);
      if (strategy !== undefined) details.push(`strategy ${strategyText(current.strategy)} -> ${strategyText(strategy)}`);
      edits.push({ action: 'module-update', key, description, strategy, detail: `${details.join('; ')}; ${note}` });
    }
  }
  if (wanted.hosts === undefined) return edits;
  const existing = current?.hosts ?? new Map<string, { weight: number; drained: boolean }>();
  for (const host of wanted.hosts) {
    const before = existing.get(hostId(host.key));
    const name = hostName(host.key);
    if (before === undefined) {
      const weight = host.weight ?? DEFAULT_WEIGHT;
      const drained = host.drained ?? false;
      edits.push({ action: 'add', key: host.key, weight, drained, detail: `${name} weight ${weight}${drained ? ', drained' : ''}; ${note}` });
      continue;
    }
    if (host.weight !== undefined && host.weight !== before.weight) {
      edits.push({ action: 'update', key: host.key, weight: host.weight, detail: `${name} weight ${before.weight} -> ${host.weight}; ${note}` });
    }
    if (host.drained !== undefined && host.drained !== before.drained) {
      edits.push(
        host.drained
          ? { action: 'drain', key: host.key, detail: `${name} drained (weight ${host.weight ?? before.weight} kept); ${note}` }
          : { action: 'undrain', key: host.key, detail: `${name} undrained: weight ${host.weight ?? before.weight}; ${note}` },
      );
    }
  }
  if (how.prune) {
    const listed = new Set(wanted.hosts.map((h) => hostId(h.key)));
    for (const [id, { weight }] of existing) {
      if (listed.has(id)) continue;
      const [ip, port] = id.split(':').map(Number) as [number, number];
      edits.push({ action: 'del', key: { ...key, ip, port }, detail: `${hostName({ ip, port })} weight ${weight}; ${how.pruneNote}` });
    }
  }
  return edits;
}

/**
 * The edits that make the store hold what the document states, in document
 * order (a module before its hosts). Nothing is deleted unless `prune`:
 * then hosts of a listed module that the document does not list go.
 */
export function planImport(wanted: readonly WantedModule[], current: ReadonlyMap<string, CurrentModule>, options: PlanOptions = {}): PlannedEdit[] {
  const how = { prune: options.prune ?? false, note: options.note ?? 'imported', pruneNote: options.pruneNote ?? 'not in the imported document' };
  return wanted.flatMap((module) => planModule(module, current.get(moduleId(module.key)), how));
}

/** A module as one change left it, kept in its change-log row (docs/store.md, "Reverting a route"); null: the module was gone. */
export type RouteSnapshot = { description: string; strategy: string | null; hosts: DocumentHost[] } | null;

/** The snapshot of a module as held in memory, hosts in key order (ip numerically, then port). */
export function snapshotOf(module: CurrentModule | undefined): string {
  if (module === undefined) return 'null';
  const hosts = [...module.hosts]
    .map(([id, h]) => {
      const [ip, port] = id.split(':').map(Number) as [number, number];
      return { ip, port, ...h };
    })
    .sort((a, b) => a.ip - b.ip || a.port - b.port)
    .map((h) => ({ ip: intToIp(h.ip), port: h.port, weight: h.weight, ...(h.drained ? { drained: true } : {}) }));
  const snapshot: RouteSnapshot = { description: module.description, strategy: module.strategy, hosts };
  return JSON.stringify(snapshot);
}

/** Applies one planned edit to the in-memory modules, so an import can snapshot each edit without reading the store again. */
export function applyPlanned(current: Map<string, CurrentModule>, edit: PlannedEdit): void {
  const id = moduleId(edit.key);
  if (edit.action === 'module-add') {
    current.set(id, { description: edit.description, strategy: edit.strategy, hosts: new Map() });
    return;
  }
  const module = current.get(id);
  if (module === undefined) return;
  switch (edit.action) {
    case 'module-update':
      if (edit.description !== undefined) module.description = edit.description;
      if (edit.strategy !== undefined) module.strategy = edit.strategy;
      return;
    case 'add':
      module.hosts.set(hostId(edit.key), { weight: edit.weight, drained: edit.drained });
      return;
    case 'update':
      module.hosts.get(hostId(edit.key))!.weight = edit.weight;
      return;
    case 'drain':
    case 'undrain':
      module.hosts.get(hostId(edit.key))!.drained = edit.action === 'drain';
      return;
    case 'del':
      module.hosts.delete(hostId(edit.key));
  }
}

/** The document that puts one module back as a snapshot holds it: every field stated, so a prune-import of it is the revert. */
export function documentOfSnapshot(key: ModuleKey, snapshot: NonNullable<RouteSnapshot>) {
  return {
    format: ROUTE_DOCUMENT_FORMAT,
    formatVersion: ROUTE_DOCUMENT_VERSION,
    modules: [{ ...key, description: snapshot.description, strategy: snapshot.strategy, hosts: snapshot.hosts.map((h) => ({ ...h, drained: h.drained ?? false })) }],
  };
}
