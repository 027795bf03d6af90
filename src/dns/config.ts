/** The [dns] config section, the sections `lars dns` reads, and its default ports. */
import { defineSection, int, reactorSection, type ConfigInput } from '../reactor/config.js';

/** Lars's dns port. */
export const DEFAULT_DNS_PORT = 7778;
export const DEFAULT_DNS_ADMIN_PORT = 17778;

export const dnsSection = defineSection('dns', {
  /**
   * How often the version row is read; an edit reaches agents within about
   * this long (a registration made through another dns too: docs/registry.md).
   */
  poll_interval_ms: int({ default: 500, min: 10, max: 3_600_000 }),
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

/** Self-registration (docs/registry.md). */
export const registrySection = defineSection('registry', {
  /** Lease TTL when a registration asks for none. */
  default_ttl_ms: int({ default: 3000, min: 100, max: 3_600_000 }),
  /** The shortest TTL a registration may ask for. */
  min_ttl_ms: int({ default: 1000, min: 100, max: 3_600_000 }),
  /** The longest TTL a registration may ask for. */
  max_ttl_ms: int({ default: 300_000, min: 100, max: 3_600_000 }),
  /** A lease ends this long after its connection closed, unless renewed meanwhile (a killed server is gone at once). */
  close_grace_ms: int({ default: 1000, min: 0, max: 3_600_000 }),
  /** How often leases are checked for expiry. */
  sweep_interval_ms: int({ default: 100, min: 10, max: 60_000 }),
  /** How often changed loads are written; also the least time between two load pushes of one route. */
  load_flush_ms: int({ default: 1000, min: 10, max: 3_600_000 }),
  /** A score change smaller than this (of 1000) is not written. */
  load_delta: int({ default: 50, min: 0, max: 1_000_000 }),
  /** The stored last-heartbeat time of an instance is refreshed at least this often. */
  heartbeat_store_s: int({ default: 10, min: 1, max: 86_400 }),
  /** How often this dns writes its liveness row. */
  node_heartbeat_ms: int({ default: 1000, min: 10, max: 3_600_000 }),
  /** A dns whose liveness row did not change for this long is dead: its instances expire. */
  node_timeout_ms: int({ default: 3000, min: 20, max: 3_600_000 }),
  /** Instances one peer address may hold on this dns. */
  max_instances_per_peer: int({ default: 1024, min: 1 }),
  /**
   * Registrations waiting for the store past which new ones are refused
   * (UNAVAILABLE) rather than queued: a store slower than the registrations
   * must not grow the queue without end. Removals are always queued.
   */
  max_queued_writes: int({ default: 20_000, min: 1 }),
  /** Registrations per second one peer address may make (bursts of twice that). */
  registrations_per_second: int({ default: 200, min: 1 }),
});

/** Every section startDns reads: its own, the registry's and the TCP server limits. */
export const DNS_CONFIG_SECTIONS = [dnsSection, registrySection, reactorSection] as const;

/** What startDns reads of its options: one entry per section, some values or all. */
export type DnsConfigInput = ConfigInput<typeof DNS_CONFIG_SECTIONS>;
