/**
 * lars import json FILE|- [--dry-run] [--prune] [--json]
 * Makes the store hold what a `lars export` document states (docs/store.md,
 * "Export and import"): the whole document is checked before anything is
 * written, then every edit goes in one transaction. --dry-run shows the
 * edits without writing; --prune also removes hosts of the listed modules
 * that the document does not list.
 *
 * lars import lars --from mysql://USER[:PASSWORD]@HOST:PORT/DB [--dry-run] [--json]
 * Moves a Lars database's routes and latest call status into the store
 * (docs/store.md, "Moving from Lars"), checked whole first, written in one
 * transaction; a second run changes nothing.
 */
import { readFile } from 'node:fs/promises';
import { CommandError, UsageError, parseCommand, printJson, printTable } from '../args.js';
import { LarsImport, type LarsImportResult } from '../../store/lars-import.js';
import { RouteAdmin, type ImportResult } from '../../store/route-admin.js';
import { STORE_OPTIONS, cliActor, withStore } from './db.js';

const FORMS = [
  'lars import json FILE|- [--dry-run] [--prune] [--json]',
  'lars import lars --from mysql://USER[:PASSWORD]@HOST:PORT/DB [--dry-run] [--json]',
];

const OPTIONS = { ...STORE_OPTIONS, 'dry-run': { type: 'boolean' }, prune: { type: 'boolean' }, from: { type: 'string' } } as const;

async function readDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    throw new CommandError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CommandError(`${path === '-' ? 'stdin' : path} is not JSON: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Prints the edits as a table; false when there were none. */
function printEdits(result: ImportResult): boolean {
  if (result.edits.length === 0) return false;
  printTable(['ACTION', 'MODULE', 'DETAIL'], result.edits.map((e) => [e.action, `${e.modid}:${e.cmdid}`, e.detail]));
  return true;
}

function printJsonImport(result: ImportResult): void {
  if (!printEdits(result)) {
    process.stdout.write(`nothing to change: the store already holds what the document states (route version ${result.version})\n`);
    return;
  }
  process.stdout.write(
    result.dryRun
      ? `dry run: ${result.edits.length} edits would be made; nothing was written\n`
      : `made ${result.edits.length} edits in one transaction (route version ${result.version})\n`,
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function printLarsImport(result: LarsImportResult): void {
  printEdits(result);
  const out = [`read ${plural(result.routeRows, 'RouteData row')} (${plural(result.modules, 'module')}) and ${plural(result.status.rows, 'ServerCallStatus row')} from ${result.source}`];
  if (result.duplicates.length > 0) {
    out.push(`skipped ${plural(result.duplicates.length, 'duplicate RouteData row')}: ${result.duplicates.map((d) => `id ${d.id} (same host as id ${d.sameAs})`).join(', ')}`);
  }
  const { edits, status } = result;
  if (edits.length === 0 && status.written === 0) out.push(`nothing to change: the store already holds what the Lars database holds (route version ${result.version})`);
  else if (result.dryRun) out.push(`dry run: ${plural(edits.length, 'edit')} and ${plural(status.written, 'status row')} would be written; nothing was written`);
  else out.push(`made ${plural(edits.length, 'edit')} and wrote ${plural(status.written, 'status row')} in one transaction (route version ${result.version})`);
  process.stdout.write(`${out.join('\n')}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  const [kind, ...rest] = positionals;
  const dryRun = values['dry-run'] ?? false;
  if (kind === 'json' && rest.length === 1 && values.from === undefined) {
    const document = await readDocument(rest[0]!);
    const result = await withStore(values, 'write', (store) => new RouteAdmin(store).importRoutes(document, cliActor(), { dryRun, prune: values.prune }));
    if (values.json) printJson(result);
    else printJsonImport(result);
    return 0;
  }
  if (kind === 'lars' && rest.length === 0 && values.from !== undefined && values.prune === undefined) {
    const from = values.from;
    const result = await withStore(values, 'write', (store) => new LarsImport(store).run(from, cliActor(), { dryRun }));
    if (values.json) printJson(result);
    else printLarsImport(result);
    return 0;
  }
  throw new UsageError(`expected ${FORMS.join(' or ')}`);
}
