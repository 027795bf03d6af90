/**
 * A Lars database to import from (docs/store.md, "Moving from Lars"): a fresh
 * MariaDB/MySQL database `lars_src_<random>` with Lars's tables, filled with
 * the rows given, dropped afterwards. Addresses are written with INET_ATON in
 * SQL, as Lars's own scripts write them, so the tests do not lean on our
 * conversion. On the server of LARS_TEST_MYSQL_URL (test/support/engines.ts).
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { discoverEngines } from './engines.js';

/** A RouteData row; id is given so a test can name it. */
export interface LarsRouteRow {
  id: number;
  modid: number;
  cmdid: number;
  ip: string;
  port: number;
}

export interface LarsStatusRow {
  modid: number;
  cmdid: number;
  ip: string;
  port: number;
  caller: string;
  succ: number;
  err: number;
  ts: number;
  overload: 'Y' | 'N' | string;
}

export interface LarsSourceSpec {
  routes?: LarsRouteRow[];
  status?: LarsStatusRow[];
  /** Tables not to create (a source that is not a Lars database). */
  without?: ('RouteData' | 'RouteVersion' | 'RouteChange' | 'ServerCallStatus')[];
  /** A user with this password may read the database; the URL then names them. */
  password?: string;
}

export interface LarsSourceDb {
  /** mysql:// URL of the database (with the user and password when one was asked for). */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Lars's tables as the brief of `lars import lars` names them; modid and cmdid signed, so a test can store a negative one. */
const TABLES: Record<string, string> = {
  RouteData: 'id int unsigned not null auto_increment primary key, modid int not null, cmdid int not null, serverip int unsigned not null, serverport int unsigned not null',
  RouteVersion: 'id int unsigned not null auto_increment primary key, version int unsigned not null',
  RouteChange: 'id int unsigned not null auto_increment primary key, modid int unsigned not null, cmdid int unsigned not null, version bigint unsigned not null',
  ServerCallStatus:
    'modid int not null, cmdid int not null, ip int unsigned not null, port int not null, caller int unsigned not null, succ_cnt int not null, err_cnt int not null, ts bigint not null, overload char(1) not null, primary key (modid, cmdid, ip, port, caller)',
};

/** Rows per INSERT when filling a big source. */
const FILL_CHUNK = 2000;

/** The MySQL server URL, or the reason there is none (printed as a skip). */
export async function larsSourceServer(): Promise<{ serverUrl: string } | { skip: string }> {
  const { available, skipped } = await discoverEngines();
  if (!available.some((e) => e.name === 'mysql')) return { skip: `a Lars database needs MariaDB/MySQL: ${skipped.find((s) => s.name === 'mysql')?.reason ?? 'not configured'}` };
  return { serverUrl: (process.env.LARS_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test').replace(/^mariadb:/, 'mysql:') };
}

export async function createLarsSource(serverUrl: string, spec: LarsSourceSpec): Promise<LarsSourceDb> {
  const name = `lars_src_${randomBytes(4).toString('hex')}`;
  const conn = await mysql.createConnection({ uri: serverUrl });
  try {
    await conn.query(`create database ${name}`);
    await conn.query(`use ${name}`);
    for (const [table, columns] of Object.entries(TABLES)) {
      if (!spec.without?.includes(table as never)) await conn.query(`create table ${table} (${columns})`);
    }
    if (!spec.without?.includes('RouteVersion')) await conn.query('insert into RouteVersion (version) values (0)');
    const routes = spec.routes ?? [];
    for (let i = 0; i < routes.length; i += FILL_CHUNK) {
      const chunk = routes.slice(i, i + FILL_CHUNK);
      await conn.query(
        `insert into RouteData (id, modid, cmdid, serverip, serverport) values ${chunk.map(() => '(?, ?, ?, inet_aton(?), ?)').join(', ')}`,
        chunk.flatMap((r) => [r.id, r.modid, r.cmdid, r.ip, r.port]),
      );
    }
    for (const s of spec.status ?? []) {
      await conn.query('insert into ServerCallStatus values (?, ?, inet_aton(?), ?, inet_aton(?), ?, ?, ?, ?)', [s.modid, s.cmdid, s.ip, s.port, s.caller, s.succ, s.err, s.ts, s.overload]);
    }
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    if (spec.password !== undefined) {
      await conn.query(`create user '${name}'@'%' identified by ?`, [spec.password]);
      await conn.query(`create user '${name}'@'localhost' identified by ?`, [spec.password]);
      await conn.query(`grant select on ${name}.* to '${name}'@'%', '${name}'@'localhost'`);
      url.username = name;
      url.password = spec.password;
    }
    return {
      url: url.href,
      name,
      drop: async () => {
        const admin = await mysql.createConnection({ uri: serverUrl });
        try {
          await admin.query(`drop database if exists ${name}`);
          if (spec.password !== undefined) await admin.query(`drop user if exists '${name}'@'%', '${name}'@'localhost'`);
        } finally {
          await admin.end();
        }
      },
    };
  } finally {
    await conn.end();
  }
}
