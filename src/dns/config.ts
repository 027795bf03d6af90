/** The [dns] config section, the sections `lars dns` reads, and its default ports. */
import { defineSection, int, reactorSection, type ConfigInput } from '../reactor/config.js';

/** Lars's dns port. */
export const DEFAULT_DNS_PORT = 7778;
export const DEFAULT_DNS_ADMIN_PORT = 17778;

export const dnsSection = defineSection('dns', {
  /** How often the version row is read; an edit reaches agents within about this long. */
  poll_interval_ms: int({ default: 1000, min: 10, max: 3_600_000 }),
  /** Every route is reloaded and compared this often, whatever the version says (safety net). */
  full_reload_interval_s: int({ default: 60, min: 1 }),
  /** Ceiling of the retry backoff while the store is unreachable. */
  retry_max_ms: int({ default: 10_000, min: 10 }),
  /** Change-log rows older than this are pruned (by age only: other dns instances may still need newer ones). */
  change_retention_hours: int({ default: 168, min: 1 }),
  /** How often old change-log rows are pruned. */
  prune_interval_s: int({ default: 3600, min: 1 }),
  /**
   * Per connection, how many subscriptions to routes without hosts are kept
   * (Lars cannot unsubscribe); the oldest go first. Routes with hosts never count.
   */
  max_empty_subscriptions: int({ default: 10_000, min: 0 }),
});

/** Every section startDns reads: its own and the TCP server limits. */
export const DNS_CONFIG_SECTIONS = [dnsSection, reactorSection] as const;

/** What startDns reads of its options: one entry per section, some values or all. */
export type DnsConfigInput = ConfigInput<typeof DNS_CONFIG_SECTIONS>;
