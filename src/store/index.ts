/** The SQL store: open it, then read and write it through its operation classes (docs/store.md). */
export { openStore, type Store, type OpenStoreOptions } from './store.js';
export { parseStoreUrl, describeLocation, type StoreKind, type StoreLocation } from './url.js';
export type * from './schema.js';
export {
  ValidationError,
  NotFoundError,
  ConflictError,
  StoreUrlError,
  StoreUnavailableError,
  NotifySettingError,
} from './errors.js';
export { chooseChangeFeed, type ChangeFeed, type ChangeListener, type FeedTransport, type NotifyOptions } from './change-feed.js';
export { DEFAULT_STRATEGY, DEFAULT_WEIGHT, LIMITS } from './validate.js';
export {
  RouteAdmin,
  type ModuleInput,
  type HostRef,
  type HostSpec,
  type ModuleInfo,
  type ModuleSummary,
  type RouteHostInfo,
  type RouteView,
  type RouteAdminOptions,
} from './route-admin.js';
export { instanceViews, servedHosts, type InstanceView, type ServedHostInfo } from './served-hosts.js';
export { RouteReader, type RouteHost, type LoadedRoute, type LoadedRoutes } from './route-reader.js';
export { ChangeLog, coversVersions, type ChangeLogOptions, type RouteChange, type ChangeRecord } from './change-log.js';
export { CallStatus, type HostStatus, type StatusRow, type StatusSample, type SeriesQuery, type SeriesResult } from './status.js';
export { Users, ensureAdminUser, type Role, type UserInfo, type UserRef } from './users.js';
export {
  InstanceRegistry,
  DNS_REPORT_PEERS,
  type DnsReport,
  type DnsNodeView,
  type InstanceKey,
  type InstanceRegistration,
  type InstanceInfo,
  type InstanceLoadRow,
  type StoredLoad,
  type RegistryWrite,
  type WriteOutcome,
  type LoadWrite,
  type DnsNode,
} from './registry.js';
export { MIGRATIONS } from './migrations.js';
