/**
 * Store URLs: `sqlite:PATH`, `sqlite::memory:`, `mysql://user:pass@host:port/db`
 * (also `mariadb://`), `postgres://…` / `postgresql://…`.
 */
import { resolve } from 'node:path';
import { StoreUrlError } from './errors.js';

export type StoreKind = 'sqlite' | 'mysql' | 'postgres';

export const SQLITE_MEMORY = ':memory:';

export interface SqliteLocation {
  kind: 'sqlite';
  /** Absolute file path, or ':memory:'. */
  path: string;
}

export interface MysqlLocation {
  kind: 'mysql';
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The URL with the password replaced by ***. */
  redacted: string;
}

export interface PostgresLocation {
  kind: 'postgres';
  /** Handed to pg unchanged, so every pg URL parameter (sslmode, host=/socket…) works. */
  connectionString: string;
  host: string;
  port: number;
  database: string;
  redacted: string;
}

export type StoreLocation = SqliteLocation | MysqlLocation | PostgresLocation;

function redact(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

/** The text itself is not echoed: it may hold a password. */
function parseNetworkUrl(text: string, scheme: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new StoreUrlError(`malformed ${scheme} store URL (expected ${scheme}://user:password@host:port/database)`);
  }
}

function databaseName(url: URL, engine: string): string {
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name || name.includes('/')) {
    throw new StoreUrlError(`${engine} store URL needs a database name, e.g. ${engine}://user@127.0.0.1/lars`);
  }
  return name;
}

export function parseStoreUrl(text: string): StoreLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite': {
      const rest = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      if (!rest) throw new StoreUrlError('sqlite store URL needs a path, e.g. sqlite:./lars.db or sqlite::memory:');
      return { kind: 'sqlite', path: rest === SQLITE_MEMORY ? SQLITE_MEMORY : resolve(rest) };
    }
    case 'mysql':
    case 'mariadb': {
      const url = parseNetworkUrl(text, scheme);
      return {
        kind: 'mysql',
        host: url.hostname || '127.0.0.1',
        port: url.port ? Number(url.port) : 3306,
        user: decodeURIComponent(url.username) || 'root',
        password: decodeURIComponent(url.password),
        database: databaseName(url, scheme),
        redacted: redact(url),
      };
    }
    case 'postgres':
    case 'postgresql': {
      const url = parseNetworkUrl(text, scheme);
      return {
        kind: 'postgres',
        connectionString: text,
        host: url.hostname || url.searchParams.get('host') || 'localhost',
        port: url.port ? Number(url.port) : 5432,
        database: databaseName(url, scheme),
        redacted: redact(url),
      };
    }
    default:
      throw new StoreUrlError(
        `unknown store URL ${JSON.stringify(scheme ? `${scheme}:…` : text)}: use sqlite:PATH, mysql://… or postgres://…`,
      );
  }
}

/** What to print for a location: the path, or the URL without its password. */
export function describeLocation(location: StoreLocation): string {
  return location.kind === 'sqlite' ? `sqlite:${location.path}` : location.redacted;
}

/** Engine address for error messages: host:port/database, or the file path. */
export function locationAddress(location: StoreLocation): string {
  return location.kind === 'sqlite' ? location.path : `${location.host}:${location.port}/${location.database}`;
}
