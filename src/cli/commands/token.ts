/**
 * lars token add NAME --user USER [--expires-days N|never] [--scope full|read] | list [--user USER] | revoke ID
 * API tokens for scripts, as the console's API tokens page makes them
 * (docs/console.md, "Security model"): the secret is printed once, by add.
 */
import { CommandError, UsageError, isoSeconds, parseCommand, parseIntArg, printJson, printTable } from '../args.js';
import { subcommands } from '../edit-command.js';
import { TOKEN_MAX_DAYS, TOKEN_SCOPES, Users, type ApiTokenInfo } from '../../store/users.js';
import { STORE_OPTIONS, auditFromCli, withStore } from './db.js';

const FORMS = 'lars token add NAME --user USER [--expires-days N|never] [--scope full|read] | list [--user USER] | revoke ID';

const when = (seconds: number | null) => (seconds === null ? 'never' : isoSeconds(seconds));

function state(t: ApiTokenInfo, now: number): string {
  if (t.revokedAt !== null) return 'revoked';
  return t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';
}

async function add(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_OPTIONS, user: { type: 'string' }, 'expires-days': { type: 'string' }, scope: { type: 'string' } });
  if (positionals.length !== 1 || values.user === undefined) throw new UsageError(`expected add NAME --user USER: ${FORMS}`);
  const days = values['expires-days'] ?? '90';
  const expiresInDays = days === 'never' ? null : parseIntArg('--expires-days', days, 1, TOKEN_MAX_DAYS);
  if (values.scope !== undefined && !(TOKEN_SCOPES as readonly string[]).includes(values.scope)) throw new UsageError(`--scope must be ${TOKEN_SCOPES.join(' or ')}, got ${JSON.stringify(values.scope)}`);
  const user = values.user;
  const token = await withStore(values, 'write', async (store) => {
    const users = new Users(store);
    if (!(await users.exists(user))) throw new CommandError(`user ${user} does not exist`);
    const created = await users.createToken(user, positionals[0]!, { expiresInDays, scope: values.scope });
    await auditFromCli(store, { kind: 'token_created', subject: created.name, detail: `token ${created.id} of ${user}, scope ${created.scope}, expires ${when(created.expiresAt)}` });
    return created;
  });
  if (values.json) printJson(token);
  else process.stdout.write(`${token.token}\ntoken ${token.id} "${token.name}" of ${token.user}, scope ${token.scope}, expires ${when(token.expiresAt)}; shown only now: use it as Authorization: Bearer <token>\n`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_OPTIONS, user: { type: 'string' } });
  if (positionals.length !== 0) throw new UsageError(`list takes no arguments: ${FORMS}`);
  const { tokens, where } = await withStore(values, 'read', async (store) => ({ tokens: await new Users(store).listTokens(values.user), where: store.describe() }));
  if (values.json) {
    printJson({ tokens });
    return 0;
  }
  const now = Math.floor(Date.now() / 1000);
  printTable(['ID', 'NAME', 'USER', 'SCOPE', 'CREATED', 'EXPIRES', 'STATE'], tokens.map((t) => [t.id, t.name, t.user, t.scope, when(t.createdAt), when(t.expiresAt), state(t, now)]), `(no tokens in ${where})`);
  return 0;
}

async function revoke(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 1) throw new UsageError(`expected revoke ID: ${FORMS}`);
  const id = parseIntArg('ID', positionals[0], 1, Number.MAX_SAFE_INTEGER);
  const token = await withStore(values, 'write', async (store) => {
    const revoked = await new Users(store).revokeToken(id);
    await auditFromCli(store, { kind: 'token_revoked', subject: revoked.name, detail: `token ${revoked.id} of ${revoked.user}` });
    return revoked;
  });
  if (values.json) printJson(token);
  else process.stdout.write(`revoked token ${token.id} "${token.name}" of ${token.user}\n`);
  return 0;
}

export const run = subcommands('token', FORMS, { add, list, revoke });
