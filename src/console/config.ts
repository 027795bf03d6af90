/** The [console] config section, and the rule about where the console may listen. */
import { defineSection, int, type ConfigInput, type FieldValues } from '../reactor/config.js';

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
  /** Audit events (sign-ins, account changes) older than this are deleted, at each sign-in. */
  audit_retention_days: int({ default: 90, min: 1 }),
});

export type ConsoleConfig = FieldValues<typeof consoleSection.fields>;

/** Every section startConsole reads. */
export const CONSOLE_CONFIG_SECTIONS = [consoleSection] as const;

/** What startConsole reads of its options: one entry per section, some values or all. */
export type ConsoleConfigInput = ConfigInput<typeof CONSOLE_CONFIG_SECTIONS>;

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}
