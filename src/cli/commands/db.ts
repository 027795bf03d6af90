/**
 * `lars db migrate --store URL`, and the store plumbing the other admin
 * commands (module, route) share: open, run, close, errors to exit codes.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { CommandError, UsageError, parseCommand, parseIntArg, printJson, storeNamed, storeUrl } from '../args.js';
import { NotifySettingError, StoreUrlError } from '../../store/errors.js';
import { configFrom } from '../../reactor/config.js';
import { createLogger } from '../../reactor/log.js';
import { notifyOptions, notifySection } from '../../store/config.js';
import type { HostRef } from '../../store/route-admin.js';
import { AuditLog, type AuditEntry } from '../../store/audit.js';
import { openStore, type Store } from '../../store/store.js';
import { parseStoreUrl, SQLITE_MEMORY } from '../../store/url.js';

/** Flags every store command takes (--notify matters to those that edit routes: docs/dns.md, "Notification"). */
export const STORE_OPTIONS = {
  store: { type: 'string' },
  'data-dir': { type: 'string' },
  notify: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/**
 * What a command may do to a SQLite store that does not exist yet: `read`
 * never makes one (an empty store would read as lost data), `write` makes one
 * only where the store was named (--store, --data-dir, LARS_STORE,
 * LARS_DATA_DIR), `create` always does (lars db migrate).
 */
export type StoreAccess = 'read' | 'write' | 'create';

/** One-shot commands read no config file: --notify or $LARS_NOTIFY, and [notify]'s defaults. */
const NOTIFY_DEFAULTS = configFrom([notifySection]).notify;

type StoreFlags = { store?: string; 'data-dir'?: string; notify?: string };

/** Refuses to open a SQLite file that is missing when `access` may not make it (docs/cli.md, "Which store"). */
function checkStoreExists(url: string, flags: StoreFlags, access: StoreAccess): void {
  const location = parseStoreUrl(url);
  if (location.kind !== 'sqlite' || location.path === SQLITE_MEMORY || access === 'create' || existsSync(location.path)) return;
  if (access === 'write' && storeNamed(flags.store, flags['data-dir'])) return;
  throw new CommandError(
    `no store at ${location.path}; run this where lars up keeps its lars-data, or name the store with --store URL, --data-dir DIR or LARS_STORE`,
  );
}

/**
 * Opens the store, runs work, closes the store. A bad URL is a usage error
 * (exit 2); everything else that fails (a missing store, validation,
 * conflict, not found, unreachable database) becomes one line on stderr and
 * exit 1.
 */
export async function withStore<T>(
  flags: StoreFlags,
  access: StoreAccess,
  work: (store: Store) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  let store: Store;
  try {
    const url = storeUrl(flags.store, flags['data-dir']);
    checkStoreExists(url, flags, access);
    // A command that may write announces its route edits; it only sends, so it holds no listening link.
    const notify = access === 'read' ? undefined : notifyOptions(flags.notify, NOTIFY_DEFAULTS, createLogger('cli'));
    store = await openStore(url, { ...options, notify });
  } catch (err) {
    throw toCommandError(err);
  }
  try {
    return await work(store);
  } catch (err) {
    throw toCommandError(err);
  } finally {
    await store.close();
  }
}

function toCommandError(err: unknown): Error {
  if (err instanceof UsageError || err instanceof CommandError) return err;
  if (err instanceof StoreUrlError || err instanceof NotifySettingError) return new UsageError(err.message);
  return new CommandError(err instanceof Error ? err.message : String(err));
}

/** Any integer passes here; RouteAdmin says which range it must be in (exit 1, naming the field), as it does for the web console. */
export function integerArg(name: string, text: string | undefined): number {
  return parseIntArg(name, text, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** MODID CMDID IP PORT; the IP and the ranges are RouteAdmin's to check. */
export function hostRefArgs([modid, cmdid, ip, port]: string[]): HostRef {
  return { modid: integerArg('MODID', modid), cmdid: integerArg('CMDID', cmdid), ip: ip!, port: integerArg('PORT', port) };
}

/** Records an account or token change made from this command line in the console's audit trail, naming cliActor(). */
export function auditFromCli(store: Store, entry: Omit<AuditEntry, 'actor' | 'address'>): Promise<void> {
  return new AuditLog(store).record({ ...entry, actor: cliActor(), address: null });
}

/** Who the change log names for edits made from this command line. */
export function cliActor(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry for this uid (common in containers).
    name = process.env.USER;
  }
  return `cli:${name || 'unknown'}`.slice(0, 64);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 1 || positionals[0] !== 'migrate') {
    throw new UsageError('expected: lars db migrate --store URL');
  }
  const { applied, where } = await withStore(
    values,
    'create',
    async (store) => ({ applied: await store.migrate(), where: store.describe() }),
    { migrate: false },
  );
  if (values.json) printJson({ store: where, applied });
  else process.stdout.write(applied.length ? `${where}: applied ${applied.join(', ')}\n` : `${where}: up to date\n`);
  return 0;
}
