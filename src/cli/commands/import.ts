/**
 * lars import json FILE|- [--dry-run] [--prune] [--json]
 * Makes the store hold what a `lars export` document states (docs/store.md,
 * "Export and import"): the whole document is checked before anything is
 * written, then every edit goes in one transaction. --dry-run shows the
 * edits without writing; --prune also removes hosts of the listed modules
 * that the document does not list.
 */
import { readFile } from 'node:fs/promises';
import { CommandError, UsageError, parseCommand, printJson, printTable } from '../args.js';
import { RouteAdmin } from '../../store/route-admin.js';
import { STORE_OPTIONS, cliActor, withStore } from './db.js';

const FORMS = 'lars import json FILE|- [--dry-run] [--prune] [--json]';

const OPTIONS = { ...STORE_OPTIONS, 'dry-run': { type: 'boolean' }, prune: { type: 'boolean' } } as const;

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

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  const [kind, file, ...rest] = positionals;
  if (kind !== 'json' || file === undefined || rest.length > 0) throw new UsageError(`expected ${FORMS}`);
  const document = await readDocument(file);
  const dryRun = values['dry-run'] ?? false;
  const result = await withStore(values, 'write', (store) => new RouteAdmin(store).importRoutes(document, cliActor(), { dryRun, prune: values.prune }));
  if (values.json) {
    printJson(result);
    return 0;
  }
  if (result.edits.length === 0) {
    process.stdout.write(`nothing to change: the store already holds what the document states (route version ${result.version})\n`);
    return 0;
  }
  printTable(['ACTION', 'MODULE', 'DETAIL'], result.edits.map((e) => [e.action, `${e.modid}:${e.cmdid}`, e.detail]));
  process.stdout.write(
    dryRun
      ? `dry run: ${result.edits.length} edits would be made; nothing was written\n`
      : `made ${result.edits.length} edits in one transaction (route version ${result.version})\n`,
  );
  return 0;
}
