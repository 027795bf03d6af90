/**
 * The database engines tests run against: SQLite always (a temp file), MariaDB
 * / MySQL and PostgreSQL when reachable. Each test database is fresh and
 * uniquely named, and dropped afterwards.
 *
 * Env: LARS_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/test) and
 * LARS_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) name a
 * server and an existing database to connect to for CREATE/DROP DATABASE;
 * set either to `none` to leave that engine out on purpose.
 *
 * An engine that is configured but unreachable is skipped with the reason,
 * except under CI=true, where it fails the run: CI must provide every engine
 * it does not leave out with `none`.
 *
 *   await forEachEngine('route admin', (store, engineName) => {
 *     test('adds a host', async () => { ... new RouteAdmin(store) ... });
 *   });
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { errorReason } from '../../src/store/errors.js';
import { openStore, type Store } from '../../src/store/store.js';

export type EngineName = 'sqlite' | 'mysql' | 'postgres';

export interface TestDatabase {
  /** Store URL of the new, empty database. */
  url: string;
  /** Drops it; close every Store on it first. */
  drop(): Promise<void>;
}

export interface TestEngine {
  name: EngineName;
  createDatabase(): Promise<TestDatabase>;
}

/** What a forEachEngine block may need beyond its store. */
export interface EngineContext {
  engine: TestEngine;
  /** URL of the block's database, to open more stores on it or hand to a child process. */
  url: string;
}

export interface SkippedEngine {
  name: EngineName;
  reason: string;
  /** Left out with `none`, rather than configured and unreachable. */
  deliberate: boolean;
}

const PROBE_TIMEOUT_MS = 2000;
/** Under CI=true an unreachable engine fails instead of skipping (the browser test does the same for Chromium). */
const STRICT = process.env.CI === 'true';

/** Whether the skip must fail the run, and the line that says why. */
function skipVerdict(s: SkippedEngine): { fails: boolean; line: string } {
  const fails = STRICT && !s.deliberate;
  return { fails, line: `${fails ? 'FAIL' : 'SKIP'} ${s.name}: ${s.reason}${fails ? '; CI=true requires it (set the URL to none to leave it out)' : ''}` };
}

function uniqueName(): string {
  return `lars_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.href;
}

const sqliteEngine: TestEngine = {
  name: 'sqlite',
  async createDatabase() {
    const dir = await mkdtemp(join(tmpdir(), 'lars-test-'));
    return { url: `sqlite:${join(dir, 'lars.db')}`, drop: () => rm(dir, { recursive: true, force: true }) };
  },
};

async function mysqlAdmin<T>(serverUrl: string, work: (conn: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await mysql.createConnection({ uri: serverUrl.replace(/^mariadb:/, 'mysql:'), connectTimeout: PROBE_TIMEOUT_MS });
  try {
    return await work(conn);
  } finally {
    await conn.end();
  }
}

function mysqlEngine(serverUrl: string): TestEngine {
  return {
    name: 'mysql',
    async createDatabase() {
      const name = uniqueName();
      await mysqlAdmin(serverUrl, (conn) => conn.query(`create database ${name} character set utf8mb4`));
      return {
        url: withDatabase(serverUrl, name),
        drop: () => mysqlAdmin(serverUrl, (conn) => conn.query(`drop database if exists ${name}`)).then(() => undefined),
      };
    },
  };
}

async function pgAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function postgresEngine(serverUrl: string): TestEngine {
  return {
    name: 'postgres',
    async createDatabase() {
      const name = uniqueName();
      await pgAdmin(serverUrl, (client) => client.query(`create database ${name}`));
      return {
        url: withDatabase(serverUrl, name),
        // FORCE: a connection a failed test left open must not keep the database alive.
        drop: () => pgAdmin(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
      };
    },
  };
}

async function probe(name: EngineName, envVar: string, defaultUrl: string, make: (url: string) => TestEngine): Promise<TestEngine | SkippedEngine> {
  const serverUrl = process.env[envVar] ?? defaultUrl;
  if (serverUrl === 'none') return { name, reason: `${envVar}=none`, deliberate: true };
  const engine = make(serverUrl);
  try {
    // Creating and dropping a database proves both the connection and the rights the tests need.
    await (await engine.createDatabase()).drop();
    return engine;
  } catch (err) {
    const where = new URL(serverUrl).host;
    return { name, reason: `${errorReason(err)} (${where}; set ${envVar} to another server or to none)`, deliberate: false };
  }
}

let discovery: Promise<{ available: TestEngine[]; skipped: SkippedEngine[] }> | undefined;

/** Probes once per process and prints one line per skipped engine (FAIL for one that fails the run). */
export function discoverEngines(): Promise<{ available: TestEngine[]; skipped: SkippedEngine[] }> {
  discovery ??= (async () => {
    const results = await Promise.all([
      probe('mysql', 'LARS_TEST_MYSQL_URL', 'mysql://root@127.0.0.1:3306/test', mysqlEngine),
      probe('postgres', 'LARS_TEST_PG_URL', 'postgres://postgres@127.0.0.1:5432/test', postgresEngine),
    ]);
    const available: TestEngine[] = [sqliteEngine];
    const skipped: SkippedEngine[] = [];
    for (const result of results) {
      if ('createDatabase' in result) available.push(result);
      else skipped.push(result);
    }
    for (const s of skipped) console.log(skipVerdict(s).line);
    return { available, skipped };
  })();
  return discovery;
}

/** The reachable engines; under CI=true, rejects when one is unreachable. */
export async function availableEngines(): Promise<TestEngine[]> {
  const { available, skipped } = await discoverEngines();
  const failing = skipped.map(skipVerdict).filter((v) => v.fails);
  if (failing.length > 0) throw new Error(failing.map((v) => v.line).join('\n'));
  return available;
}

/**
 * Registers one describe block per reachable engine, `${title} [engine]`,
 * with a fresh migrated store that is closed and dropped after the block; a
 * skipped engine shows as one skipped test with the reason, or, under CI=true
 * when it is unreachable, as one failing test. Await it at the top level of
 * the test file.
 */
export async function forEachEngine(
  title: string,
  body: (store: Store, engineName: EngineName, context: EngineContext) => void,
): Promise<void> {
  const { available, skipped } = await discoverEngines();
  // Every store is ready before the first block is registered: were one
  // registered while the next store is still opening, the runner could finish
  // it and run the file's top-level after() hooks before the next block exists.
  const prepared = await Promise.all(
    available.map(async (engine) => {
      const database = await engine.createDatabase();
      return { engine, database, store: await openStore(database.url) };
    }),
  );
  for (const { engine, database, store } of prepared) {
    describe(`${title} [${engine.name}]`, () => {
      after(async () => {
        await store.close();
        await database.drop();
      });
      body(store, engine.name, { engine, url: database.url });
    });
  }
  // A test, not a suite, so the runner's summary counts it as skipped or failed.
  for (const s of skipped) {
    const { fails, line } = skipVerdict(s);
    if (fails) {
      test(`${title} [${s.name}]`, () => {
        throw new Error(line);
      });
    } else test(`${title} [${s.name}]`, { skip: s.reason }, () => {});
  }
}
