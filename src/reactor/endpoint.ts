/** Addresses as the reactor names them in options, logs and metrics. */

export interface Endpoint {
  host: string;
  port: number;
}

/** "ip:port" for IPv4 (IPv4-mapped IPv6 shown as IPv4), "[ip]:port" for IPv6. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  const ip = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function formatEndpoint(endpoint: Endpoint): string {
  return formatPeer(endpoint.host, endpoint.port);
}

/** Prometheus metric names of a component: lars_<name>_<metric>. */
export function metricName(component: string, metric: string): string {
  return `lars_${component.replace(/[^a-zA-Z0-9_]/g, '_')}_${metric}`;
}
