/** Addresses as the reactor names them in options, logs and metrics; one type and one parser for every layer. */

export interface Endpoint {
  host: string;
  port: number;
}

/** A text that is no HOST:PORT (the CLI turns it into a usage error, config into a problem line). */
export class EndpointError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointError';
  }
}

/**
 * "HOST:PORT" or "[v6]:PORT"; with a defaultHost also ":PORT" and "PORT".
 * Port 0 (pick a free port) is allowed: whoever binds decides whether it fits.
 */
export function parseEndpoint(text: string, defaultHost?: string): Endpoint {
  const match = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(text.trim());
  const host = match?.[1] || defaultHost;
  if (!match || host === undefined) throw new EndpointError(`expected HOST:PORT, got ${JSON.stringify(text)}`);
  const port = Number(match[2]);
  if (port > 65535) throw new EndpointError(`port out of range in ${JSON.stringify(text)}`);
  return { host, port };
}

/** Comma-separated endpoints; empty items are skipped. */
export function parseEndpointList(text: string, defaultHost?: string): Endpoint[] {
  return text
    .split(',')
    .filter((item) => item.trim() !== '')
    .map((item) => parseEndpoint(item, defaultHost));
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
