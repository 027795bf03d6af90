/**
 * The admin HTTP port every service exposes: GET /healthz (JSON, 200 when
 * healthy, 503 otherwise) and GET /metrics (Prometheus text). Extra JSON
 * endpoints can be mounted by path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from './metrics.js';

export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  metrics: MetricsRegistry;
  health: () => Health;
  /** Extra GET endpoints answering JSON, e.g. { '/status': () => ({...}) }. */
  json?: Record<string, () => unknown>;
}

export interface AdminServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(options.metrics.render());
      return;
    }
    const producer = path === '/healthz' ? options.health : options.json?.[path];
    if (!producer) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = producer();
    const status = path === '/healthz' && !(body as Health).ok ? 503 : 200;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
