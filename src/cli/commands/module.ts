/**
 * lars module add MODID CMDID [--description TEXT] [--strategy NAME]
 *             | update MODID CMDID [--description TEXT] [--strategy NAME|default]
 *             | del MODID CMDID | list
 * A module must exist before `lars route add` gives it hosts. Its strategy is
 * the one every agent runs for its route (docs/balancer.md, "Per-route
 * strategy"); `default` leaves it to each agent's [loadbalance] strategy.
 */
import { UsageError, parseCommand, printJson, printTable } from '../args.js';
import { ValidationError } from '../../store/errors.js';
import { RouteAdmin } from '../../store/route-admin.js';
import { checkStrategy, DEFAULT_STRATEGY } from '../../store/validate.js';
import { EDITED, editListCommand, type EditAction } from '../edit-command.js';
import { STORE_OPTIONS, cliActor, integerArg, withStore } from './db.js';

const FORMS =
  'lars module add MODID CMDID [--description TEXT] [--strategy NAME] | update MODID CMDID [--description TEXT] [--strategy NAME|default] | del MODID CMDID | list';

const EDIT_OPTIONS = { ...STORE_OPTIONS, description: { type: 'string' }, strategy: { type: 'string' } } as const;

function moduleArgs(positionals: string[]) {
  if (positionals.length !== 2) throw new UsageError(`expected MODID CMDID: ${FORMS}`);
  const [modid, cmdid] = positionals;
  return { modid: integerArg('MODID', modid), cmdid: integerArg('CMDID', cmdid) };
}

/** The --strategy word as the store keeps it (null for default); a name no agent knows is a usage error. */
function strategyArg(text: string | undefined): string | null | undefined {
  if (text === undefined) return undefined;
  try {
    return checkStrategy(text);
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(`--${err.message}`);
    throw err;
  }
}

async function edit(argv: string[], action: EditAction): Promise<number> {
  const { values, positionals } = parseCommand(argv, EDIT_OPTIONS);
  const key = moduleArgs(positionals);
  const { description } = values;
  if (action === 'update' && description === undefined && values.strategy === undefined) {
    throw new UsageError(`update needs --description TEXT or --strategy NAME: ${FORMS}`);
  }
  if (action === 'del' && (description !== undefined || values.strategy !== undefined)) {
    throw new UsageError(`del takes no --description or --strategy: ${FORMS}`);
  }
  const strategy = strategyArg(values.strategy);
  const version = await withStore(values, 'write', (store) => {
    const admin = new RouteAdmin(store);
    if (action === 'add') return admin.addModule({ ...key, description, strategy }, cliActor());
    if (action === 'update') return admin.updateModule({ ...key, description, strategy }, cliActor());
    return admin.delModule(key.modid, key.cmdid, cliActor());
  });
  if (values.json) {
    printJson({ action, ...key, ...(description === undefined ? {} : { description }), ...(strategy === undefined ? {} : { strategy }), version });
  } else {
    process.stdout.write(`${EDITED[action]} module ${key.modid}:${key.cmdid} (route version ${version})\n`);
  }
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 0) throw new UsageError(`list takes no arguments: ${FORMS}`);
  const { version, modules, where } = await withStore(values, 'read', async (store) => ({ ...(await new RouteAdmin(store).listModules()), where: store.describe() }));
  if (values.json) {
    printJson({ version, modules });
  } else {
    process.stdout.write(`route version ${version} in ${where}\n`);
    printTable(
      ['MODID', 'CMDID', 'HOSTS', 'STRATEGY', 'DESCRIPTION'],
      modules.map((m) => [m.modid, m.cmdid, m.hosts, m.strategy ?? DEFAULT_STRATEGY, m.description]),
      '(no modules)',
    );
  }
  return 0;
}

export const run = editListCommand('module', FORMS, edit, list);
