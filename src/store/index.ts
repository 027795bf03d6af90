/** The SQL store: open it, administer routes, read routes. */
export { openStore, type Store, type OpenStoreOptions } from './store.js';
export { parseStoreUrl, describeLocation, type StoreKind, type StoreLocation } from './url.js';
export type * from './schema.js';
export {
  ValidationError,
  NotFoundError,
  ConflictError,
  StoreUrlError,
  StoreUnavailableError,
} from './errors.js';
export { DEFAULT_WEIGHT, LIMITS } from './validate.js';
export {
  RouteAdmin,
  type ModuleInput,
  type HostRef,
  type HostInput,
  type ModuleInfo,
  type RouteInfo,
  type RouteAdminOptions,
} from './route-admin.js';
export { RouteReader, type RouteHost, type RouteTable } from './route-reader.js';
export {
  coversVersions,
  listChanges,
  pruneChanges,
  readVersion,
  type RouteChange,
  type ChangeRecord,
} from './change-log.js';
export { MIGRATIONS } from './migrations.js';
