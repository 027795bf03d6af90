/**
 * lars user add NAME --role admin|editor|viewer | passwd NAME | role NAME admin|editor|viewer
 *   | grant|ungrant NAME MODID[:CMDID] | disable|enable NAME | del NAME | list | audit [--limit N]
 * Console accounts, and the modules an editor may change (docs/console.md,
 * "Roles"). The password is read from stdin when it is not a
 * terminal (first line), and prompted for twice without echo when it is; it
 * never appears on the command line, where `ps` would show it.
 */
import { CommandError, UsageError, isoSeconds, parseCommand, parseIntArg, printJson, printTable } from '../args.js';
import { subcommands } from '../edit-command.js';
import { AuditLog } from '../../store/audit.js';
import { grantText, parseGrant, type Grant } from '../../store/grants.js';
import { ROLES, Users, checkRole, type Role } from '../../store/users.js';
import { ValidationError } from '../../store/errors.js';
import { STORE_OPTIONS, auditFromCli, withStore } from './db.js';

const ROLE_FORM = ROLES.join('|');
const FORMS = `lars user add NAME --role ${ROLE_FORM} | passwd NAME | role NAME ${ROLE_FORM} | grant|ungrant NAME MODID[:CMDID] | disable|enable NAME | del NAME | list | audit [--limit N]`;

/** Reads what a script piped in, up to the first line break. */
async function readPipedPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  if (line === '') throw new CommandError('no password on stdin (pipe it in, e.g. printf %s "$PASS" | lars user ...)');
  return line;
}

/** Prompts on the terminal with echo off; Ctrl-C cancels. */
function promptHidden(prompt: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (result: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      result();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(chars.join('')));
        if (ch === '\u0003' || (ch === '\u0004' && chars.length === 0)) return finish(() => reject(new CommandError('cancelled')));
        if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1);
        else if (ch >= ' ') chars.push(ch);
      }
    };
    stdin.on('data', onData);
  });
}

async function readNewPassword(name: string): Promise<string> {
  if (!process.stdin.isTTY) return readPipedPassword();
  const first = await promptHidden(`new password for ${name}: `);
  const second = await promptHidden('again: ');
  if (first !== second) throw new CommandError('the two passwords differ; nothing was changed');
  return first;
}

function nameArg(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`expected one user NAME: ${FORMS}`);
  return positionals[0]!;
}

/** A role as typed; anything but admin, editor or viewer is a usage error. */
function roleArg(flag: string, text: string): string {
  try {
    return checkRole(text);
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(`${flag} must be ${ROLES.slice(0, -1).join(', ')} or ${ROLES.at(-1)}, got ${JSON.stringify(text)}`);
    throw err;
  }
}

/** A grant as typed (7, 7:* or 7:1); anything else is a usage error. */
function grantArg(text: string): Grant {
  try {
    return parseGrant(text);
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(err.message);
    throw err;
  }
}

/** "an admin", "an editor", "a viewer". */
const withArticle = (role: Role) => `${role === 'viewer' ? 'a' : 'an'} ${role}`;

async function add(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_OPTIONS, role: { type: 'string' } });
  const name = nameArg(positionals);
  if (values.role === undefined) throw new UsageError(`add needs --role ${ROLE_FORM}: ${FORMS}`);
  roleArg('--role', values.role);
  const password = await readNewPassword(name);
  const user = await withStore(values, 'write', async (store) => {
    const added = await new Users(store).add({ name, role: values.role!, password });
    await auditFromCli(store, { kind: 'user_added', subject: added.name, detail: `role ${added.role}` });
    return added;
  });
  if (values.json) printJson({ action: 'add', name: user.name, role: user.role });
  else process.stdout.write(`added user ${user.name} (${user.role})\n`);
  return 0;
}

async function passwd(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  const name = nameArg(positionals);
  const password = await readNewPassword(name);
  await withStore(values, 'write', async (store) => {
    await new Users(store).setPassword(name, password);
    await auditFromCli(store, { kind: 'user_password_reset', subject: name, detail: 'sessions ended' });
  });
  if (values.json) printJson({ action: 'passwd', name });
  else process.stdout.write(`changed the password of ${name}; their console sessions were ended\n`);
  return 0;
}

async function role(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 2) throw new UsageError(`expected role NAME ${ROLE_FORM}: ${FORMS}`);
  const [name, text] = positionals as [string, string];
  const user = await withStore(values, 'write', async (store) => {
    const changed = await new Users(store).setRole(name, roleArg('ROLE', text));
    await auditFromCli(store, { kind: 'user_role_changed', subject: name, detail: `role ${changed.role}` });
    return changed;
  });
  if (values.json) printJson({ action: 'role', name: user.name, role: user.role });
  else process.stdout.write(`${user.name} is now ${withArticle(user.role)} (from their next request)\n`);
  return 0;
}

/**
 * lars user grant|ungrant NAME MODID[:CMDID]: a module an editor may change,
 * MODID alone (or MODID:*) for every cmdid of it. Any role may hold grants;
 * they apply while it is an editor. Granting one held already changes (and
 * records) nothing; taking back one not held is an error.
 */
function grantCommand(granting: boolean) {
  const action = granting ? 'grant' : 'ungrant';
  return async (argv: string[]): Promise<number> => {
    const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
    if (positionals.length !== 2) throw new UsageError(`expected ${action} NAME MODID[:CMDID]: ${FORMS}`);
    const [name, text] = positionals as [string, string];
    const grant = grantArg(text);
    const { changed, user } = await withStore(values, 'write', async (store) => {
      const users = new Users(store);
      let changed = true;
      if (granting) changed = await users.grant(name, grant);
      else await users.revoke(name, grant);
      if (changed) await auditFromCli(store, { kind: granting ? 'user_granted' : 'user_ungranted', subject: name, detail: `grant ${grantText(grant)}` });
      // The grant or revoke above found the user.
      return { changed, user: (await users.find(name))! };
    });
    if (values.json) {
      printJson({ action, name, grant, changed, grants: user.grants });
      return 0;
    }
    const what = grantText(grant);
    if (!granting) process.stdout.write(`${name} may no longer change ${what}\n`);
    else if (!changed) process.stdout.write(`${name} may change ${what} already; nothing changed\n`);
    else process.stdout.write(`${name} may change ${what} (from their next request)${user.role === 'editor' ? '' : `; it applies while they are an editor, and they are ${withArticle(user.role)}`}\n`);
    return 0;
  };
}

/** lars user disable|enable NAME: a disabled account cannot sign in; its sessions end and its tokens are refused until enabled. */
function disableCommand(disabled: boolean) {
  return async (argv: string[]): Promise<number> => {
    const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
    const name = nameArg(positionals);
    await withStore(values, 'write', async (store) => {
      await new Users(store).setDisabled(name, disabled);
      await auditFromCli(store, { kind: disabled ? 'user_disabled' : 'user_enabled', subject: name });
    });
    if (values.json) printJson({ action: disabled ? 'disable' : 'enable', name });
    else process.stdout.write(disabled ? `disabled ${name}: their console sessions were ended and their API tokens are refused\n` : `enabled ${name}\n`);
    return 0;
  };
}

async function del(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  const name = nameArg(positionals);
  await withStore(values, 'write', async (store) => {
    await new Users(store).delete(name);
    await auditFromCli(store, { kind: 'user_deleted', subject: name });
  });
  if (values.json) printJson({ action: 'del', name });
  else process.stdout.write(`deleted user ${name} with their sessions and API tokens\n`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 0) throw new UsageError(`list takes no arguments: ${FORMS}`);
  const { users, where } = await withStore(values, 'read', async (store) => ({ users: await new Users(store).list(), where: store.describe() }));
  if (values.json) {
    printJson({ users });
  } else {
    printTable(
      ['NAME', 'ROLE', 'CREATED', 'UPDATED', 'STATE', 'GRANTS'],
      users.map((u) => [u.name, u.role, isoSeconds(u.createdAt), isoSeconds(u.updatedAt), u.disabled ? 'disabled' : 'enabled', u.grants.map(grantText).join(',') || null]),
      `(no users in ${where})`,
    );
  }
  return 0;
}

/** lars user audit [--limit N]: the console's audit trail, newest first (docs/console.md, "Audit trail"). */
async function audit(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_OPTIONS, limit: { type: 'string' } });
  if (positionals.length !== 0) throw new UsageError(`audit takes no arguments: ${FORMS}`);
  const limit = values.limit === undefined ? 50 : parseIntArg('--limit', values.limit, 1, 10_000);
  const { events, where } = await withStore(values, 'read', async (store) => ({ events: await new AuditLog(store).list({ limit }), where: store.describe() }));
  if (values.json) {
    printJson({ events });
    return 0;
  }
  printTable(['WHEN', 'WHAT', 'WHO', 'ACCOUNT', 'FROM', 'DETAIL'], events.map((e) => [isoSeconds(e.at), e.kind, e.actor, e.subject, e.address, e.detail || null]), `(nothing recorded in ${where})`);
  return 0;
}

export const run = subcommands('user', FORMS, {
  add,
  passwd,
  role,
  grant: grantCommand(true),
  ungrant: grantCommand(false),
  disable: disableCommand(true),
  enable: disableCommand(false),
  del,
  list,
  audit,
});
