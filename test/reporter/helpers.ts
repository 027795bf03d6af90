/**
 * Reporter test helpers: report frames, and a store outage per engine.
 */
import SqliteDatabase from 'better-sqlite3';
import { MsgId } from '../../src/protocol/msgid.js';
import type { HostCallResult, ReportStatusRequest } from '../../src/protocol/messages.js';
import { parseStoreUrl } from '../../src/store/url.js';
import type { EngineName } from '../support/engines.js';
import { frameOf } from '../support/net.js';
import { TcpProxy } from '../support/tcp-proxy.js';

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
  return {
    url: proxy.proxiedUrl(url),
    begin: () => proxy.stop(),
    end: async () => {
      await proxy.start();
    },
    close: () => proxy.stop(),
  };
}
