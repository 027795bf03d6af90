/** What the route groups share: the store and its administrators, config, clock, log and metrics. */
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';
import type { RouteAdmin } from '../store/route-admin.js';
import type { Store } from '../store/store.js';
import type { Users } from '../store/users.js';
import type { ConsoleConfig } from './config.js';
import type { LoginThrottle } from './login-throttle.js';

export interface ConsoleContext {
  store: Store;
  routes: RouteAdmin;
  users: Users;
  config: ConsoleConfig;
  throttle: LoginThrottle;
  /** Cookies get the Secure flag when the console serves TLS. */
  secureCookies: boolean;
  /** Unix seconds. */
  now(): number;
  logger: Logger;
  metrics: MetricsRegistry;
}
