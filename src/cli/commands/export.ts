/**
 * lars export [--store URL] [--output FILE]
 * Every module with its configured hosts as one JSON document (docs/store.md,
 * "Export and import"), on stdout or into FILE; `lars import json` reads it.
 */
import { writeFile } from 'node:fs/promises';
import { CommandError, UsageError, parseCommand, printJson } from '../args.js';
import { RouteAdmin } from '../../store/route-admin.js';
import { STORE_OPTIONS, withStore } from './db.js';

const FORMS = 'lars export [--output FILE]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_OPTIONS, output: { type: 'string', short: 'o' } });
  if (positionals.length !== 0) throw new UsageError(`export takes no arguments: ${FORMS}`);
  const document = await withStore(values, 'read', (store) => new RouteAdmin(store).exportRoutes());
  if (values.output === undefined) {
    printJson(document);
    return 0;
  }
  try {
    await writeFile(values.output, JSON.stringify(document, null, 2) + '\n');
  } catch (err) {
    throw new CommandError(`cannot write ${values.output}: ${(err as Error).message}`);
  }
  const hosts = document.modules.reduce((n, m) => n + (m.hosts?.length ?? 0), 0);
  process.stderr.write(`exported ${document.modules.length} modules with ${hosts} hosts (route version ${document.version}) to ${values.output}\n`);
  return 0;
}
