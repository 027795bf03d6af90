/**
 * The agent's configuration sections: [loadbalance] (Lars's keys: the
 * balancer's own fields), [agent] (addresses, intervals, buffers) and the
 * reactor's [reactor] (its dns and reporter links). startAgent takes them as
 * loadConfig gives them (or as code sets some of them), one option per section.
 */
import { LOADBALANCE_FIELDS } from '../balancer/params.js';
import { DEFAULT_AGENT_BASE_PORT } from '../protocol/agent-ports.js';
import { defineSection, endpoints, float, int, oneOf, reactorSection, str, type ConfigInput } from '../reactor/config.js';
import { DEFAULT_BUSY_POLL_US } from '../reactor/udp-port.js';

export const loadBalanceSection = defineSection('loadbalance', LOADBALANCE_FIELDS);

/** `lars agent --admin`: /healthz and /metrics. */
export const DEFAULT_AGENT_ADMIN_PORT = 18888;

export const agentSection = defineSection('agent', {
  /** dns servers, tried in order (failover). Required: --dns or [agent] dns. */
  dns: endpoints(),
  /** reporter servers, tried in order. Required: --reporter or [agent] reporter. */
  reporter: endpoints(),
  /** Address the three UDP ports bind to. Loopback by default: business code on this machine only. */
  udp_host: str({ default: '127.0.0.1', nonEmpty: true }),
  /** First of the three consecutive UDP ports; 0 picks three free consecutive ports. */
  udp_base_port: int({ default: DEFAULT_AGENT_BASE_PORT, min: 0, max: 65533 }),
  /** This machine's IPv4 as reports name it (ReportStatusRequest.caller); empty: the first non-loopback IPv4. */
  caller: str({ default: '' }),
  /** Seconds between statistics batches sent to the reporter. */
  report_interval_s: float({ default: 1, min: 0.05, max: 3600 }),
  /** How long the first requests for an unknown route wait for dns's answer before NOEXIST; 0 answers at once (Lars). */
  route_wait_ms: int({ default: 200, min: 0, max: 10_000 }),
  /** Per port, routes without hosts (asked for, or answered empty) remembered; the oldest are forgotten beyond this. */
  max_unknown_routes: int({ default: 10_000, min: 1 }),
  /** Statistics messages kept while no reporter is reachable; the oldest are dropped beyond this. */
  report_queue: int({ default: 3600, min: 0 }),
  /** UDP I/O: auto (the batched native fast path when built, else node:dgram), native (required), or dgram. */
  udp_io: oneOf(['auto', 'native', 'dgram'] as const, { default: 'auto' }),
  /** Native fast path: widest busy-polling window after the socket runs dry, in µs; 0 never spins. */
  udp_busy_poll_us: int({ default: DEFAULT_BUSY_POLL_US, min: 0, max: 1_000_000 }),
  /**
   * Threads serving the three UDP ports (docs/agent.md, "Thread model"): 1
   * (the main thread serves them all, beside the dns and reporter links), 3
   * (a worker thread per port) or auto (1 below AUTO_PORT_THREADS_MIN_CORES cores, else 3).
   */
  threads: oneOf(['auto', '1', '3'] as const, { default: 'auto' }),
  /** SO_RCVBUF of each UDP port (the kernel caps it at net.core.rmem_max); 0 keeps the OS default. */
  udp_recv_buffer_bytes: int({ default: 4 * 1024 * 1024, min: 0 }),
});

/** From this many cores on, `threads = auto` gives each port its own thread. */
export const AUTO_PORT_THREADS_MIN_CORES = 4;

/** How many threads serve the ports: the setting, or for auto what the machine's cores suggest. */
export function portThreads(setting: 'auto' | '1' | '3', cores: number): 1 | 3 {
  if (setting === 'auto') return cores >= AUTO_PORT_THREADS_MIN_CORES ? 3 : 1;
  return setting === '1' ? 1 : 3;
}

/** Every section `lars agent` reads, for loadConfig (and `lars up`). */
export const AGENT_CONFIG_SECTIONS = [agentSection, loadBalanceSection, reactorSection] as const;

/** What startAgent reads of its options: one entry per section, some values or all. */
export type AgentConfigInput = ConfigInput<typeof AGENT_CONFIG_SECTIONS>;
