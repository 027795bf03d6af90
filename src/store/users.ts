/**
 * Console accounts over the users, user_grants, sessions and api_tokens
 * tables: users with a role and a scrypt password hash, the modules an editor
 * may change (grants.ts), browser sessions and API tokens. Secrets
 * handed to people (session ids, API tokens) are random and stored only as
 * SHA-256 hashes; passwords only as salted scrypt hashes. Nothing here logs.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { checkGrant, compareGrants, grantText, type Grant } from './grants.js';
import type { Database } from './schema.js';
import { kyselyOf, type Store } from './store.js';
import type { StoreKind } from './url.js';

/** admin: everything; editor: the modules granted to it (docs/console.md, "Roles"); viewer: reads only. */
export type Role = 'admin' | 'editor' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'editor', 'viewer'];

export interface UserInfo {
  name: string;
  role: Role;
  /** Unix seconds. */
  createdAt: number;
  updatedAt: number;
  /** May not sign in; its sessions were ended and its tokens are refused until it is enabled. */
  disabled: boolean;
  /** The modules it may change, kept whatever the role; they apply while the role is editor. */
  grants: Grant[];
}

/** The password was right but an admin disabled the account: the caller may be told, a guesser never gets here. */
export class AccountDisabledError extends Error {
  constructor(readonly user: string) {
    super(`the account ${user} is disabled; an admin can enable it`);
    this.name = 'AccountDisabledError';
  }
}

/** Who is acting: a user, their current role and what that lets them change. */
export interface UserRef {
  name: string;
  role: Role;
  /** The modules it may change as an editor: its grants for an editor, none for any other role (or a read-only token). */
  grants: Grant[];
}

export interface SessionInfo {
  user: UserRef;
  csrfToken: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface NewSession extends SessionInfo {
  /** The cookie value; only its hash is stored. */
  id: string;
}

/** "full": the token acts with its user's role; "read": reads only, whatever the role. */
export const TOKEN_SCOPES = ['full', 'read'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface ApiTokenInfo {
  id: number;
  name: string;
  user: string;
  /** Unix seconds. */
  createdAt: number;
  revokedAt: number | null;
  /** Unix seconds; null: until revoked. */
  expiresAt: number | null;
  scope: TokenScope;
}

export interface NewApiToken extends ApiTokenInfo {
  /** The secret, shown once; only its hash is stored. */
  token: string;
}

export const USER_LIMITS = {
  nameMax: 64,
  passwordMin: 8,
  /** scrypt cost grows with input only a little, but a megabyte "password" is an abuse, not a password. */
  passwordMax: 1024,
  tokenNameMax: 64,
} as const;

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;
const TOKEN_PREFIX = 'lars_';

// ---------------------------------------------------------------- validation

export function checkUserName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > USER_LIMITS.nameMax || !USER_NAME.test(value)) {
    throw new ValidationError(
      'username',
      `must be 1 to ${USER_LIMITS.nameMax} characters of letters, digits and . _ @ - (starting with a letter or digit)`,
    );
  }
  return value;
}

export function checkPassword(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('password', 'must be text');
  const length = [...value].length;
  if (length < USER_LIMITS.passwordMin || length > USER_LIMITS.passwordMax) {
    throw new ValidationError('password', `must be ${USER_LIMITS.passwordMin} to ${USER_LIMITS.passwordMax} characters`);
  }
  return value;
}

export function checkRole(value: unknown): Role {
  if (!ROLES.includes(value as Role)) throw new ValidationError('role', `must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

function checkTokenName(value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0 || [...value].length > USER_LIMITS.tokenNameMax || value.includes('\u0000')) {
    throw new ValidationError('name', `must be 1 to ${USER_LIMITS.tokenNameMax} characters`);
  }
  return value.trim();
}

// ---------------------------------------------------------------- password hashing

/**
 * scrypt with N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds). The
 * parameters are stored in the hash, so raising them later keeps old hashes valid.
 */
const SCRYPT = { logN: 15, r: 8, p: 1, keyLength: 32, saltLength: 16 };

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function scryptOptions(logN: number, r: number, p: number): ScryptOptions {
  // Node refuses to use more than maxmem; scrypt needs 128 * N * r bytes plus a little.
  return { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r };
}

/** "scrypt$logN$r$p$salt$hash", salt and hash in base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await scryptAsync(password, salt, SCRYPT.keyLength, scryptOptions(SCRYPT.logN, SCRYPT.r, SCRYPT.p));
  return ['scrypt', SCRYPT.logN, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every((n) => Number.isInteger(n) && n > 0) || logN > 22) return false;
  const expected = Buffer.from(parts[5]!, 'base64');
  const key = await scryptAsync(password, Buffer.from(parts[4]!, 'base64'), expected.length, scryptOptions(logN, r, p));
  return expected.length > 0 && timingSafeEqual(key, expected);
}

/** A hash of a random password, checked against when the user does not exist, so both cases cost the same. */
let decoyHash: Promise<string> | undefined;

// ---------------------------------------------------------------- secrets

function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A password for a generated account: 144 random bits, easy to copy. */
export function generatePassword(): string {
  return randomSecret(18);
}

// ---------------------------------------------------------------- accounts

export interface UsersOptions {
  /** Unix milliseconds; injected by tests. */
  clock?: () => number;
}

type UserRow = { name: string; role: string; created_at: number; updated_at: number; disabled: number };
const USER_COLUMNS = ['name', 'role', 'created_at', 'updated_at', 'disabled'] as const;

const toUserInfo = (row: UserRow, grants: Grant[]): UserInfo => ({
  name: row.name,
  role: row.role as Role,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  disabled: Number(row.disabled) !== 0,
  grants,
});

const noSuchUser = (name: string) => new NotFoundError(`user ${name} does not exist`);

async function hasUser(db: Kysely<Database>, name: string): Promise<boolean> {
  return (await db.selectFrom('users').select('name').where('name', '=', name).executeTakeFirst()) !== undefined;
}

const toGrants = (rows: { modid: number; cmdid: number | null }[]): Grant[] =>
  rows.map((r) => ({ modid: Number(r.modid), cmdid: r.cmdid === null ? null : Number(r.cmdid) })).sort(compareGrants);

/** The user's grants, in grant order (sorted here: engines order NULLs differently). */
async function grantsOf(db: Kysely<Database>, name: string): Promise<Grant[]> {
  return toGrants(await db.selectFrom('user_grants').select(['modid', 'cmdid']).where('user_name', '=', name).execute());
}

/** The row of exactly this grant of the user (NULL, every cmdid, is matched with IS). */
const grantRow = (name: string, grant: Grant) => (eb: ExpressionBuilder<Database, 'user_grants'>) =>
  eb.and([eb('user_name', '=', name), eb('modid', '=', grant.modid), eb('cmdid', grant.cmdid === null ? 'is' : '=', grant.cmdid)]);

/** The acting user: an editor comes with its grants, every other role with none. */
async function actingUser(db: Kysely<Database>, name: string, role: Role): Promise<UserRef> {
  return { name, role, grants: role === 'editor' ? await grantsOf(db, name) : [] };
}

const toTokenInfo = (row: { id: number; name: string; user_name: string; created_at: number; revoked_at: number | null; expires_at: number | null; scope: string }): ApiTokenInfo => ({
  id: Number(row.id),
  name: row.name,
  user: row.user_name,
  createdAt: Number(row.created_at),
  revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  scope: row.scope as TokenScope,
});

const TOKEN_COLUMNS = ['id', 'name', 'user_name', 'created_at', 'revoked_at', 'expires_at', 'scope'] as const;

/** A token lives at most this long; "until revoked" is the other choice. */
export const TOKEN_MAX_DAYS = 3650;

function checkTokenLimits(options: { expiresInDays?: number | null; scope?: string }): { expiresInDays: number | null; scope: TokenScope } {
  const days = options.expiresInDays ?? null;
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > TOKEN_MAX_DAYS)) {
    throw new ValidationError('expiresInDays', `must be a whole number of days from 1 to ${TOKEN_MAX_DAYS}, or none (until revoked)`);
  }
  const scope = options.scope ?? 'full';
  if (!(TOKEN_SCOPES as readonly string[]).includes(scope)) throw new ValidationError('scope', `must be one of ${TOKEN_SCOPES.join(', ')}`);
  return { expiresInDays: days, scope: scope as TokenScope };
}

/** Admins who can act: a disabled one does not count, so the last one standing is kept. */
async function countAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('disabled', '=', 0).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export class Users {
  private readonly db: Kysely<Database>;
  private readonly kind: StoreKind;
  private readonly clock: () => number;

  constructor(store: Store, options: UsersOptions = {}) {
    this.db = kyselyOf(store);
    this.kind = store.kind;
    this.clock = options.clock ?? Date.now;
  }

  private now(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** Whether an account of this name exists (a failed sign-in names it in the audit trail only then: a typed password is no name). */
  async exists(name: string): Promise<boolean> {
    return hasUser(this.db, name);
  }

  /** One account, or undefined when there is none of that name. */
  async find(name: string): Promise<UserInfo | undefined> {
    const row = await this.db.selectFrom('users').select(USER_COLUMNS).where('name', '=', name).executeTakeFirst();
    return row && toUserInfo(row, await grantsOf(this.db, name));
  }

  async hasAny(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('name').limit(1).executeTakeFirst()) !== undefined;
  }

  async list(): Promise<UserInfo[]> {
    const [rows, grantRows] = await Promise.all([
      this.db.selectFrom('users').select(USER_COLUMNS).orderBy('name').execute(),
      this.db.selectFrom('user_grants').select(['user_name', 'modid', 'cmdid']).execute(),
    ]);
    return rows.map((row) => toUserInfo(row, toGrants(grantRows.filter((g) => g.user_name === row.name))));
  }

  async add(input: { name: string; role: string; password: string }): Promise<UserInfo> {
    const name = checkUserName(input.name);
    const role = checkRole(input.role);
    const passwordHash = await hashPassword(checkPassword(input.password));
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      if (await trx.selectFrom('users').select('name').where('name', '=', name).executeTakeFirst()) {
        throw new ConflictError(`user ${name} already exists`);
      }
      await trx.insertInto('users').values({ name, role, password_hash: passwordHash, created_at: now, updated_at: now }).execute();
    });
    return { name, role, createdAt: now, updatedAt: now, disabled: false, grants: [] };
  }

  /** Sets a new password and ends the user's sessions (API tokens stay valid). */
  async setPassword(name: string, password: string): Promise<void> {
    checkUserName(name);
    const passwordHash = await hashPassword(checkPassword(password));
    await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: this.now() })
        .where('name', '=', name)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new NotFoundError(`user ${name} does not exist`);
      await trx.deleteFrom('sessions').where('user_name', '=', name).execute();
    });
  }

  /**
   * Gives the user another role; it applies to their next request (sessions
   * and tokens act with the user's current role). The last admin cannot
   * become a viewer. Grants stay: they apply again when the user is an editor again.
   */
  async setRole(name: string, role: string): Promise<UserInfo> {
    checkUserName(name);
    const next = checkRole(role);
    return this.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select(USER_COLUMNS).where('name', '=', name).executeTakeFirst();
      if (!user) throw new NotFoundError(`user ${name} does not exist`);
      if (user.role === 'admin' && !user.disabled && next !== 'admin' && (await countAdmins(trx)) === 1) {
        throw new ConflictError(`user ${name} is the last admin; make another user admin first`);
      }
      const now = this.now();
      await trx.updateTable('users').set({ role: next, updated_at: now }).where('name', '=', name).execute();
      return toUserInfo({ ...user, role: next, updated_at: now }, await grantsOf(trx, name));
    });
  }

  /**
   * Disables an account (it cannot sign in, its sessions end, its tokens are
   * refused) or enables it again. The last enabled admin stays enabled.
   */
  async setDisabled(name: string, disabled: boolean): Promise<UserInfo> {
    checkUserName(name);
    return this.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select(USER_COLUMNS).where('name', '=', name).executeTakeFirst();
      if (!user) throw new NotFoundError(`user ${name} does not exist`);
      if (disabled && user.role === 'admin' && !user.disabled && (await countAdmins(trx)) === 1) {
        throw new ConflictError(`user ${name} is the last admin; make another user admin first`);
      }
      const now = this.now();
      await trx.updateTable('users').set({ disabled: disabled ? 1 : 0, updated_at: now }).where('name', '=', name).execute();
      if (disabled) await trx.deleteFrom('sessions').where('user_name', '=', name).execute();
      return toUserInfo({ ...user, disabled: disabled ? 1 : 0, updated_at: now }, await grantsOf(trx, name));
    });
  }

  /** Deletes the user with their grants, sessions and tokens; the last admin cannot be deleted. */
  async delete(name: string): Promise<void> {
    checkUserName(name);
    await this.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select(['role', 'disabled']).where('name', '=', name).executeTakeFirst();
      if (!user) throw new NotFoundError(`user ${name} does not exist`);
      if (user.role === 'admin' && !user.disabled && (await countAdmins(trx)) === 1) {
        throw new ConflictError(`user ${name} is the last admin; add another admin first`);
      }
      // The foreign keys cascade too; explicit deletes do not depend on SQLite's foreign_keys pragma.
      await trx.deleteFrom('sessions').where('user_name', '=', name).execute();
      await trx.deleteFrom('api_tokens').where('user_name', '=', name).execute();
      await trx.deleteFrom('user_grants').where('user_name', '=', name).execute();
      await trx.deleteFrom('users').where('name', '=', name).execute();
    });
  }

  /**
   * The user when the password matches, undefined otherwise. An unknown user
   * costs one scrypt too, so timing does not tell which names exist. The
   * right password of a disabled account is an AccountDisabledError.
   */
  async authenticate(name: string, password: string): Promise<UserRef | undefined> {
    const row = await this.db.selectFrom('users').select(['name', 'role', 'password_hash', 'disabled']).where('name', '=', name).executeTakeFirst();
    if (!row) {
      await verifyPassword(password, await (decoyHash ??= hashPassword(generatePassword())));
      return undefined;
    }
    if (!(await verifyPassword(password, row.password_hash))) return undefined;
    if (Number(row.disabled) !== 0) throw new AccountDisabledError(row.name);
    return actingUser(this.db, row.name, row.role as Role);
  }

  // ---------------------------------------------------------------- grants

  /**
   * Lets the user change a module, or every cmdid of a modid (cmdid absent or
   * null). Any role may hold grants; they apply while it is an editor (an
   * admin changes everything anyway, a viewer nothing), so a demoted
   * editor keeps them for when it is an editor again. True when the grant
   * is new, false when the user had it already.
   */
  async grant(name: string, input: { modid: unknown; cmdid?: unknown }): Promise<boolean> {
    checkUserName(name);
    const grant = checkGrant(input);
    return this.db.transaction().execute(async (trx) => {
      if (!(await hasUser(trx, name))) throw noSuchUser(name);
      // The unique key (migration 0012) decides, so two admins giving the same grant at once both succeed: one inserts, one finds it held.
      const insert = trx.insertInto('user_grants').values({ user_name: name, modid: grant.modid, cmdid: grant.cmdid });
      const result = await (this.kind === 'mysql' ? insert.ignore() : insert.onConflict((oc) => oc.doNothing())).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  /** Takes back a grant exactly as given: an unknown user or a grant the user does not hold is a NotFoundError. */
  async revoke(name: string, input: { modid: unknown; cmdid?: unknown }): Promise<void> {
    checkUserName(name);
    const grant = checkGrant(input);
    await this.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('user_grants').where(grantRow(name, grant)).executeTakeFirst();
      if (result.numDeletedRows > 0n) return;
      if (!(await hasUser(trx, name))) throw noSuchUser(name);
      const held = (await grantsOf(trx, name)).map(grantText);
      throw new NotFoundError(`user ${name} has no grant ${grantText(grant)} (${held.length > 0 ? `their grants: ${held.join(', ')}` : 'they have none'})`);
    });
  }

  /** The user's grants, by modid then cmdid (every cmdid first); NotFoundError for an unknown user. */
  async grants(name: string): Promise<Grant[]> {
    const user = await this.find(name);
    if (!user) throw noSuchUser(name);
    return user.grants;
  }

  // ---------------------------------------------------------------- sessions

  async createSession(user: UserRef, ttlSeconds: number): Promise<NewSession> {
    const id = randomSecret();
    const csrfToken = randomSecret();
    const now = this.now();
    const expiresAt = now + ttlSeconds;
    await this.db
      .insertInto('sessions')
      .values({ id_hash: sha256(id), user_name: user.name, csrf_token: csrfToken, created_at: now, expires_at: expiresAt })
      .execute();
    return { id, csrfToken, expiresAt, user };
  }

  /** The live session for a cookie value, with the user's current role (and an editor's grants). */
  async findSession(id: string): Promise<SessionInfo | undefined> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.name', 's.user_name')
      .select(['u.name', 'u.role', 's.csrf_token', 's.expires_at'])
      .where('s.id_hash', '=', sha256(id))
      .where('s.expires_at', '>', this.now())
      .where('u.disabled', '=', 0)
      .executeTakeFirst();
    if (!row) return undefined;
    return { user: await actingUser(this.db, row.name, row.role as Role), csrfToken: row.csrf_token, expiresAt: Number(row.expires_at) };
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', sha256(id)).execute();
  }

  /** Removes expired sessions; returns how many went. */
  async pruneSessions(): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', this.now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---------------------------------------------------------------- API tokens

  /** A new token of `user`; expiresInDays null or absent: until revoked; scope "read" limits it to reads. */
  async createToken(user: string, name: string, options: { expiresInDays?: number | null; scope?: string } = {}): Promise<NewApiToken> {
    const tokenName = checkTokenName(name);
    const { expiresInDays, scope } = checkTokenLimits(options);
    const token = TOKEN_PREFIX + randomSecret();
    const now = this.now();
    await this.db
      .insertInto('api_tokens')
      .values({ name: tokenName, token_hash: sha256(token), user_name: user, created_at: now, revoked_at: null, expires_at: expiresInDays === null ? null : now + expiresInDays * 86_400, scope })
      .execute();
    // Read back by the unique hash: portable across engines (no RETURNING on MySQL).
    const row = await this.db
      .selectFrom('api_tokens')
      .select(TOKEN_COLUMNS)
      .where('token_hash', '=', sha256(token))
      .executeTakeFirstOrThrow();
    return { ...toTokenInfo(row), token };
  }

  /**
   * The owner of a live token (not revoked, not expired), with the role it
   * acts with: its user's (an editor's with its grants), or viewer for a
   * read-only token.
   */
  async findToken(token: string): Promise<{ id: number; user: UserRef; scope: TokenScope } | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const row = await this.db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.name', 't.user_name')
      .select(['t.id', 'u.name', 'u.role', 't.scope'])
      .where('t.token_hash', '=', sha256(token))
      .where('t.revoked_at', 'is', null)
      .where('u.disabled', '=', 0)
      .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', this.now())]))
      .executeTakeFirst();
    if (!row) return undefined;
    const scope = row.scope as TokenScope;
    return { id: Number(row.id), user: await actingUser(this.db, row.name, scope === 'read' ? 'viewer' : (row.role as Role)), scope };
  }

  /** Every token, or one user's, newest first. */
  async listTokens(user?: string): Promise<ApiTokenInfo[]> {
    let query = this.db.selectFrom('api_tokens').select(TOKEN_COLUMNS).orderBy('id', 'desc');
    if (user !== undefined) query = query.where('user_name', '=', user);
    return (await query.execute()).map(toTokenInfo);
  }

  /** Revokes a token (idempotent); `owner` limits it to that user's tokens. */
  async revokeToken(id: number, owner?: string): Promise<ApiTokenInfo> {
    return this.db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('api_tokens').select(TOKEN_COLUMNS).where('id', '=', id);
      if (owner !== undefined) query = query.where('user_name', '=', owner);
      const row = await query.executeTakeFirst();
      if (!row) throw new NotFoundError(`token ${id} does not exist`);
      if (row.revoked_at !== null) return toTokenInfo(row);
      const revokedAt = this.now();
      await trx.updateTable('api_tokens').set({ revoked_at: revokedAt }).where('id', '=', id).execute();
      return toTokenInfo({ ...row, revoked_at: revokedAt });
    });
  }
}

/**
 * On a store without any user, creates `admin` (role admin) with a random
 * password and returns it, to be shown once. Does nothing when any user
 * exists, so it is safe on every start and from several processes at once.
 */
export async function ensureAdminUser(store: Store): Promise<{ created: boolean; password?: string }> {
  const users = new Users(store);
  if (await users.hasAny()) return { created: false };
  const password = generatePassword();
  try {
    await users.add({ name: 'admin', role: 'admin', password });
  } catch (err) {
    // Another process created a user meanwhile.
    if (err instanceof ConflictError || (await users.hasAny())) return { created: false };
    throw err;
  }
  return { created: true, password };
}
