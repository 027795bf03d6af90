/** The [console] config section, and the rule about where the console may listen. */
import { defineSection, int, type SectionValues } from '../reactor/config.js';

export const DEFAULT_CONSOLE_HOST = '127.0.0.1';
export const DEFAULT_CONSOLE_PORT = 8080;

export const consoleSection = defineSection('console', {
  /** A browser session lasts this long after login (absolute, not sliding). */
  session_ttl_hours: int({ default: 12, min: 1, max: 24 * 30 }),
  /** Failed logins allowed per user name from one client address within login_window_s, before 429. */
  login_failures_per_user_address: int({ default: 10, min: 1 }),
  /** Failed logins allowed per client address (for any user name) within login_window_s, before 429. */
  login_failures_per_address: int({ default: 30, min: 1 }),
  /** Failed logins allowed per user name from all addresses together (slows spread-out guessing). */
  login_failures_per_user: int({ default: 100, min: 1 }),
  /** The allowance refills evenly over this window. */
  login_window_s: int({ default: 600, min: 1 }),
  /** A route's latest status older than this shows as "stale". */
  status_stale_after_s: int({ default: 300, min: 1 }),
});

export type ConsoleConfig = SectionValues<typeof consoleSection.fields>;

export const DEFAULT_CONSOLE_CONFIG: ConsoleConfig = Object.freeze(
  Object.fromEntries(Object.entries(consoleSection.fields).map(([key, field]) => [key, field.default])) as ConsoleConfig,
);

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}
