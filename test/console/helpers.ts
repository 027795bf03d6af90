/**
 * Console test helpers: an HTTP client that logs in like a browser (cookie +
 * CSRF token) or uses a Bearer token, fixed users (and an editor with
 * grants), status rows inserted the way the reporter stores them, and a
 * snapshot of everything a refused request must leave alone.
 */
import { ipToUint32 } from '../../src/protocol/ip.js';
import type { CallLatency, HostStatus } from '../../src/store/status.js';
import { kyselyOf, type Store } from '../../src/store/store.js';
import { Users } from '../../src/store/users.js';

export const ADMIN = { name: 'root-admin', password: 'admin-password-1' };
export const VIEWER = { name: 'vic-viewer', password: 'viewer-password-1' };

export async function addTestUsers(store: Store): Promise<void> {
  const users = new Users(store);
  await users.add({ name: ADMIN.name, role: 'admin', password: ADMIN.password });
  await users.add({ name: VIEWER.name, role: 'viewer', password: VIEWER.password });
}

export const EDITOR = { name: 'eddie-editor', password: 'editor-password-1' };

/** The editor, granted these modules (no cmdid: every cmdid of the modid). */
export async function addTestEditor(store: Store, grants: { modid: number; cmdid?: number }[]): Promise<void> {
  const users = new Users(store);
  await users.add({ name: EDITOR.name, role: 'editor', password: EDITOR.password });
  for (const grant of grants) await users.grant(EDITOR.name, grant);
}

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

export type Auth = { kind: 'none' } | { kind: 'session'; csrf?: boolean } | { kind: 'token'; token: string };

export class ApiClient {
  cookie = '';
  csrfToken = '';

  constructor(readonly baseUrl: string) {}

  /** Logs in; keeps the cookie and the CSRF token for later requests. */
  async login(user: { name: string; password: string }): Promise<Answer> {
    const answer = await this.request('POST', '/api/v1/session', { body: { username: user.name, password: user.password }, auth: { kind: 'none' } });
    if (answer.status === 200) {
      this.cookie = answer.headers.get('set-cookie')!.split(';', 1)[0]!;
      this.csrfToken = answer.body.csrfToken;
    }
    return answer;
  }

  /** Default auth: the session with its CSRF token. */
  async request(method: string, path: string, options: { body?: unknown; rawBody?: string; auth?: Auth; headers?: Record<string, string> } = {}): Promise<Answer> {
    const auth = options.auth ?? { kind: 'session' };
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] ??= 'application/json';
    if (auth.kind === 'session') {
      headers.cookie = this.cookie;
      if (auth.csrf !== false) headers['x-csrf-token'] = this.csrfToken;
    }
    if (auth.kind === 'token') headers.authorization = `Bearer ${auth.token}`;
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let body: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
    return { status: response.status, body, headers: response.headers };
  }
}

/** A status row as the console reads it; overload defaults to false. */
export type StatusInput = Omit<HostStatus, 'overload' | keyof CallLatency> & { overload?: boolean; timed?: number; durationUs?: number; maxDurationUs?: number };

export async function insertStatus(store: Store, rows: StatusInput[]): Promise<void> {
  for (const r of rows) {
    await kyselyOf(store)
      .insertInto('call_status')
      .values({
        modid: r.modid,
        cmdid: r.cmdid,
        ip: ipToUint32(r.ip),
        port: r.port,
        caller: ipToUint32(r.caller),
        succ: r.succ,
        err: r.err,
        overload: r.overload ? 1 : 0,
        reported_at: r.reportedAt,
        timed: r.timed,
        duration_us: r.durationUs,
        max_duration_us: r.maxDurationUs,
      })
      .execute();
  }
}

/** One call_series row per minute for the last `minutes` minutes, ending at the last whole minute before now. */
export async function insertSeries(store: Store, host: { modid: number; cmdid: number; ip: string; port: number; caller: string }, minutes: number, now: number, counts: (minute: number) => { succ: number; err: number; timed?: number; durationUs?: number; maxDurationUs?: number }): Promise<void> {
  const end = Math.floor(now / 60) * 60;
  for (let m = 0; m < minutes; m++) {
    const { succ, err, timed = 0, durationUs = 0, maxDurationUs = 0 } = counts(m);
    await kyselyOf(store)
      .insertInto('call_series')
      .values({
        modid: host.modid,
        cmdid: host.cmdid,
        ip: ipToUint32(host.ip),
        port: host.port,
        caller: ipToUint32(host.caller),
        window_ts: end - m * 60,
        succ,
        err,
        timed,
        duration_us: durationUs,
        max_duration_us: maxDurationUs,
      })
      .execute();
  }
}

/** Everything an edit could touch; equal before and after a refused request. */
export async function storeSnapshot(store: Store): Promise<string> {
  const [version, modules, routes, changes, tokens] = await Promise.all([
    kyselyOf(store).selectFrom('route_version').selectAll().execute(),
    kyselyOf(store).selectFrom('modules').select(['modid', 'cmdid', 'description']).orderBy('modid').orderBy('cmdid').execute(),
    kyselyOf(store).selectFrom('routes').select(['modid', 'cmdid', 'ip', 'port', 'weight']).orderBy('modid').orderBy('cmdid').orderBy('ip').orderBy('port').execute(),
    kyselyOf(store).selectFrom('route_changes').select((eb) => eb.fn.countAll<number>().as('n')).execute(),
    kyselyOf(store).selectFrom('api_tokens').select(['id', 'revoked_at']).orderBy('id').execute(),
  ]);
  return JSON.stringify({ version, modules, routes, changes: Number(changes[0]!.n), tokens });
}
