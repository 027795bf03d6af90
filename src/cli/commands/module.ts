/**
 * lars module add MODID CMDID [--description TEXT] | update MODID CMDID --description TEXT
 *             | del MODID CMDID | list
 * A module must exist before `lars route add` gives it hosts.
 */
import { UsageError, parseCommand, printJson, printTable } from '../args.js';
import { RouteAdmin } from '../../store/route-admin.js';
import { EDITED, editListCommand, type EditAction } from '../edit-command.js';
import { STORE_OPTIONS, cliActor, integerArg, withStore } from './db.js';

const FORMS = 'lars module add MODID CMDID [--description TEXT] | update MODID CMDID --description TEXT | del MODID CMDID | list';

const EDIT_OPTIONS = { ...STORE_OPTIONS, description: { type: 'string' } } as const;

function moduleArgs(positionals: string[]) {
  if (positionals.length !== 2) throw new UsageError(`expected MODID CMDID: ${FORMS}`);
  const [modid, cmdid] = positionals;
  return { modid: integerArg('MODID', modid), cmdid: integerArg('CMDID', cmdid) };
}

async function edit(argv: string[], action: EditAction): Promise<number> {
  const { values, positionals } = parseCommand(argv, EDIT_OPTIONS);
  const key = moduleArgs(positionals);
  const { description } = values;
  if (action === 'update' && description === undefined) throw new UsageError(`update needs --description TEXT: ${FORMS}`);
  if (action === 'del' && description !== undefined) throw new UsageError(`del takes no --description: ${FORMS}`);
  const version = await withStore(values, (store) => {
    const admin = new RouteAdmin(store);
    if (action === 'add') return admin.addModule({ ...key, description }, cliActor());
    if (action === 'update') return admin.updateModule({ ...key, description: description! }, cliActor());
    return admin.delModule(key.modid, key.cmdid, cliActor());
  });
  if (values.json) {
    printJson({ action, ...key, ...(description === undefined ? {} : { description }), version });
  } else {
    process.stdout.write(`${EDITED[action]} module ${key.modid}:${key.cmdid} (route version ${version})\n`);
  }
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 0) throw new UsageError(`list takes no arguments: ${FORMS}`);
  const { version, modules } = await withStore(values, (store) => new RouteAdmin(store).listModules());
  if (values.json) {
    printJson({ version, modules });
  } else {
    process.stdout.write(`route version ${version}\n`);
    printTable(
      ['MODID', 'CMDID', 'HOSTS', 'DESCRIPTION'],
      modules.map((m) => [m.modid, m.cmdid, m.hosts, m.description]),
      '(no modules)',
    );
  }
  return 0;
}

export const run = editListCommand('module', FORMS, edit, list);
