/**
 * Reporter test helpers: report frames, a TCP proxy to cut a network store
 * off and bring it back, and a store outage per engine.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import SqliteDatabase from 'better-sqlite3';
import { MsgId } from '../../src/protocol/msgid.js';
import type { HostCallResult, ReportStatusRequest } from '../../src/protocol/messages.js';
import { parseStoreUrl } from '../../src/store/url.js';
import type { EngineName } from '../support/engines.js';
import { frameOf } from '../support/net.js';

/** A recent window end, so the reporter's retention pruning leaves test rows alone. */
export function recentTs(secondsAgo = 60): number {
  return Math.floor(Date.now() / 1000) - secondsAgo;
}

/** A report of `count` hosts 10.0.x.y:port (y from the port), ports from firstPort up, succ = port, err = 1. */
export function reportOf(fields: Partial<ReportStatusRequest> & { firstPort?: number; count?: number }): ReportStatusRequest {
  const { firstPort = 1, count = 1, ...rest } = fields;
  const results: HostCallResult[] = [];
  for (let port = firstPort; port < firstPort + count; port++) {
    results.push({ ip: (10 << 24) | port, port, succ: port, err: 1, overload: false });
  }
  return { modid: 1, cmdid: 1, caller: (10 << 24) | 0xfffe, ts: recentTs(), results, ...rest };
}

export function reportFrame(report: ReportStatusRequest): Buffer {
  return frameOf(MsgId.ReportStatusRequest, report);
}

/**
 * A loopback TCP proxy to a database. stop() drops every connection and stops
 * listening, as if the database went away; start() listens again on the same
 * port.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

/** Makes a store unreachable for a while, honestly, per engine; `url` is what the reporter must use. */
export interface StoreOutage {
  url: string;
  begin(): Promise<void>;
  end(): Promise<void>;
  close(): Promise<void>;
}

/**
 * SQLite: another connection holds the write lock (BEGIN EXCLUSIVE), so
 * writes fail with SQLITE_BUSY after the busy timeout. MySQL and PostgreSQL:
 * the reporter reaches the server through a proxy, which is stopped and
 * started again (the shared server itself keeps running).
 */
export async function storeOutage(engine: EngineName, url: string): Promise<StoreOutage> {
  if (engine === 'sqlite') {
    const location = parseStoreUrl(url);
    if (location.kind !== 'sqlite') throw new Error(`not a sqlite url: ${url}`);
    let lock: SqliteDatabase.Database | undefined;
    const release = async () => {
      lock?.exec('rollback');
      lock?.close();
      lock = undefined;
    };
    return {
      url,
      async begin() {
        lock = new SqliteDatabase(location.path, { timeout: 30_000 });
        lock.exec('begin exclusive');
      },
      end: release,
      close: release,
    };
  }
  const target = new URL(url);
  const proxy = new TcpProxy(target.hostname, Number(target.port || (engine === 'mysql' ? 3306 : 5432)));
  await proxy.start();
  const proxied = new URL(url);
  proxied.port = String(proxy.port);
  return {
    url: proxied.href,
    begin: () => proxy.stop(),
    end: () => proxy.start(),
    close: () => proxy.stop(),
  };
}
