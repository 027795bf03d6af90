/** What the route groups share: the store's operations, config, clock, log and metrics. */
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';
import type { AuditLog } from '../store/audit.js';
import type { ChangeLog } from '../store/change-log.js';
import type { InstanceRegistry } from '../store/registry.js';
import type { RouteAdmin } from '../store/route-admin.js';
import type { CallStatus } from '../store/status.js';
import type { Users } from '../store/users.js';
import type { ConsoleConfig } from './config.js';
import type { LoginThrottle } from './login-throttle.js';

export interface ConsoleContext {
  routes: RouteAdmin;
  users: Users;
  status: CallStatus;
  changes: ChangeLog;
  audit: AuditLog;
  registry: InstanceRegistry;
  config: ConsoleConfig;
  throttle: LoginThrottle;
  /** Cookies get the Secure flag when the console serves TLS. */
  secureCookies: boolean;
  /** Unix seconds. */
  now(): number;
  logger: Logger;
  metrics: MetricsRegistry;
}
