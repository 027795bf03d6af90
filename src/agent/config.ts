/**
 * The agent's configuration sections: [loadbalance] (Lars's keys, checked by
 * the balancer's own validateLoadBalanceParams) and [agent] (addresses,
 * intervals, buffers). The CLI loads them with the reactor's loadConfig, so
 * every key can come from --config FILE, LARS_<SECTION>_<KEY> or --set.
 */
import { DEFAULT_LOADBALANCE_PARAMS, validateLoadBalanceParams, type LoadBalanceParams } from '../balancer/params.js';
import { defineSection, endpoints, float, int, oneOf, reactorSection, str, type Field, type SectionValues } from '../reactor/config.js';

/**
 * One field per balancer key, defaults from DEFAULT_LOADBALANCE_PARAMS. Only
 * the type is checked per field; ranges are validateLoadBalanceParams's job
 * (run as the section's check), so they are written down once.
 */
const loadBalanceFields = Object.fromEntries(
  Object.entries(DEFAULT_LOADBALANCE_PARAMS).map(([key, value]) => [
    key,
    typeof value === 'number' ? float({ default: value }) : str({ default: value }),
  ]),
) as Record<keyof LoadBalanceParams, Field<number | string>>;

export const loadBalanceSection = defineSection('loadbalance', loadBalanceFields, (values) => {
  try {
    validateLoadBalanceParams(values);
    return [];
  } catch (err) {
    return [(err as Error).message.replace(/^\[loadbalance\] /, '')];
  }
});

export const DEFAULT_AGENT_UDP_HOST = '127.0.0.1';
export const DEFAULT_REPORT_INTERVAL_S = 1;
export const DEFAULT_ROUTE_WAIT_MS = 200;
export const DEFAULT_MAX_UNKNOWN_ROUTES = 10_000;
export const DEFAULT_REPORT_QUEUE = 3600;
export const DEFAULT_UDP_RECV_BUFFER = 4 * 1024 * 1024;

export const agentSection = defineSection('agent', {
  /** dns servers, tried in order (failover). Required: --dns or [agent] dns. */
  dns: endpoints(),
  /** reporter servers, tried in order. Required: --reporter or [agent] reporter. */
  reporter: endpoints(),
  /** Address the three UDP ports bind to. Loopback by default: business code on this machine only. */
  udp_host: str({ default: DEFAULT_AGENT_UDP_HOST, nonEmpty: true }),
  /** First of the three consecutive UDP ports; 0 picks three free consecutive ports. */
  udp_base_port: int({ default: 8888, min: 0, max: 65533 }),
  /** This machine's IPv4 as reports name it (ReportStatusRequest.caller); empty: the first non-loopback IPv4. */
  caller: str({ default: '' }),
  /** Seconds between statistics batches sent to the reporter. */
  report_interval: float({ default: DEFAULT_REPORT_INTERVAL_S, min: 0.05, max: 3600 }),
  /** How long the first requests for an unknown route wait for dns's answer before NOEXIST; 0 answers at once (Lars). */
  route_wait_ms: int({ default: DEFAULT_ROUTE_WAIT_MS, min: 0, max: 10_000 }),
  /** Per port, routes without hosts (asked for, or answered empty) remembered; the oldest are forgotten beyond this. */
  max_unknown_routes: int({ default: DEFAULT_MAX_UNKNOWN_ROUTES, min: 1 }),
  /** Statistics messages kept while no reporter is reachable; the oldest are dropped beyond this. */
  report_queue: int({ default: DEFAULT_REPORT_QUEUE, min: 0 }),
  /** UDP I/O: auto (the batched native fast path when built, else node:dgram), native (required), or dgram. */
  udp_io: oneOf(['auto', 'native', 'dgram'] as const, { default: 'auto' }),
  /** Native fast path: widest busy-polling window after the socket runs dry, in µs; 0 never spins. */
  udp_busy_poll_us: int({ default: 50, min: 0, max: 1_000_000 }),
  /** SO_RCVBUF of each UDP port, in bytes (the kernel caps it at net.core.rmem_max); 0 keeps the OS default. */
  udp_recv_buffer: int({ default: DEFAULT_UDP_RECV_BUFFER, min: 0 }),
});

export type AgentSectionValues = SectionValues<typeof agentSection.fields>;

/** Every section `lars agent` reads, for loadConfig (and `lars up`). */
export const AGENT_CONFIG_SECTIONS = [agentSection, loadBalanceSection, reactorSection] as const;

/** The balancer parameters from a loaded [loadbalance] section. */
export function loadBalanceParams(values: Readonly<Record<string, unknown>>): LoadBalanceParams {
  return validateLoadBalanceParams(values);
}
