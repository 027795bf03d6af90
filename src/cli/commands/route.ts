/**
 * lars route add MODID CMDID IP PORT [--weight W] | update MODID CMDID IP PORT --weight W
 *            | del MODID CMDID IP PORT | drain|undrain MODID CMDID IP PORT | list [MODID CMDID] | find IP[:PORT]
 *            | revert MODID CMDID VERSION [--dry-run]
 * list shows what dns serves: the configured hosts and the registered
 * instances (docs/registry.md), each with its SOURCE; `lars instances` edits the latter.
 * Range checks (port, weight, ids, IP) are RouteAdmin's, so the CLI and the
 * web console refuse exactly the same input.
 */
import { CommandError, UsageError, ageText, parseCommand, printJson, printTable } from '../args.js';
import { honoursWeights, isStrategyName } from '../../balancer/types.js';
import { NotFoundError } from '../../store/errors.js';
import { RouteAdmin } from '../../store/route-admin.js';
import type { ServedHostInfo } from '../../store/served-hosts.js';
import { DEFAULT_WEIGHT } from '../../store/validate.js';
import { EDITED, editListCommand, type EditAction } from '../edit-command.js';
import { STORE_OPTIONS, cliActor, hostRefArgs, integerArg, withStore } from './db.js';

const FORMS =
  'lars route add MODID CMDID IP PORT [--weight W] | update MODID CMDID IP PORT --weight W | del MODID CMDID IP PORT | drain|undrain MODID CMDID IP PORT | list [MODID CMDID] | find IP[:PORT] | revert MODID CMDID VERSION [--dry-run]';

const EDIT_OPTIONS = { ...STORE_OPTIONS, weight: { type: 'string' } } as const;

function hostArgs(positionals: string[]) {
  if (positionals.length !== 4) throw new UsageError(`expected MODID CMDID IP PORT: ${FORMS}`);
  return hostRefArgs(positionals);
}

async function edit(argv: string[], action: EditAction): Promise<number> {
  const { values, positionals } = parseCommand(argv, EDIT_OPTIONS);
  const host = hostArgs(positionals);
  if (action === 'update' && values.weight === undefined) throw new UsageError(`update needs --weight W: ${FORMS}`);
  if (action === 'del' && values.weight !== undefined) throw new UsageError(`del takes no --weight: ${FORMS}`);
  const weight = values.weight === undefined ? undefined : integerArg('--weight', values.weight);
  const { version, strategy } = await withStore(values, 'write', async (store) => {
    const admin = new RouteAdmin(store);
    const edited = async (): Promise<number> => {
      if (action === 'add') {
        return admin.addHost({ ...host, weight }, cliActor()).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
          throw new CommandError(`${err.message}; add it first: lars module add ${host.modid} ${host.cmdid}`);
        });
      }
      if (action === 'update') return admin.updateHost({ ...host, weight: weight! }, cliActor());
      return admin.delHost(host, cliActor());
    };
    const version = await edited();
    // The module's strategy matters only to a weight that could give a share: read it then only.
    const gives = weight !== undefined && weight > 0;
    return { version, strategy: gives ? ((await admin.findModule(host.modid, host.cmdid))?.strategy ?? null) : undefined };
  });
  const note = strategy === undefined ? undefined : weightNote(host, strategy);
  if (values.json) {
    printJson({ action, ...host, ...(action === 'del' ? {} : { weight: weight ?? DEFAULT_WEIGHT }), version, ...(note === undefined ? {} : { note }) });
  } else {
    process.stdout.write(`${EDITED[action]} host ${host.ip}:${host.port} of module ${host.modid}:${host.cmdid} (route version ${version})\n`);
  }
  if (note !== undefined && !values.json) process.stderr.write(`note: ${note}\n`);
  return 0;
}

/** Said when a weight above 0 goes to a route whose strategy ignores it (lars), or may (the agents' default). */
function weightNote(route: { modid: number; cmdid: number }, strategy: string | null): string | undefined {
  const name = `module ${route.modid}:${route.cmdid}`;
  const use = `lars module update ${route.modid} ${route.cmdid} --strategy weighted_round_robin (or another weighted one) to use it`;
  if (strategy === null) return `${name} names no strategy, so each agent runs its [loadbalance] strategy; lars, the default, honours weight 0 (drain) only: ${use}`;
  if (isStrategyName(strategy) && !honoursWeights(strategy)) return `${name} runs the lars strategy, which honours weight 0 (drain) only: ${use}`;
  return undefined;
}

async function list(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 0 && positionals.length !== 2) throw new UsageError(`expected list [MODID CMDID]: ${FORMS}`);
  const filter = positionals.length === 2 ? { modid: integerArg('MODID', positionals[0]), cmdid: integerArg('CMDID', positionals[1]) } : undefined;
  const { version, hosts: routes, where } = await withStore(values, 'read', async (store) => ({ ...(await new RouteAdmin(store).listServedHosts(filter)), where: store.describe() }));
  printRoutes({ version, routes, where }, values.json, '(no routes)');
  return 0;
}

function printRoutes({ version, routes, where }: { version: number; routes: ServedHostInfo[]; where: string }, json: boolean | undefined, empty: string): void {
  if (json) {
    printJson({ version, routes });
    return;
  }
  const now = Date.now() / 1000;
  process.stdout.write(`route version ${version} in ${where}\n`);
  printTable(
    ['MODID', 'CMDID', 'IP', 'PORT', 'WEIGHT', 'SOURCE', 'HEARTBEAT', 'LOAD'],
    routes.map((r) => [r.modid, r.cmdid, r.ip, r.port, r.source === 'static' && r.drained ? `${r.weight} (drained: 0)` : r.weight, r.source, r.lastHeartbeat === null ? null : ageText(r.lastHeartbeat, now), r.load?.score]),
    empty,
  );
}

/** lars route drain|undrain MODID CMDID IP PORT: maintenance of a configured host; its weight is kept (docs/store.md, "Draining a host"). */
function drainCommand(drain: boolean) {
  return async (argv: string[]): Promise<number> => {
    const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
    const host = hostArgs(positionals);
    const version = await withStore(values, 'write', (store) => {
      const admin = new RouteAdmin(store);
      return drain ? admin.drainHost(host, cliActor()) : admin.undrainHost(host, cliActor());
    });
    const action = drain ? 'drain' : 'undrain';
    if (values.json) printJson({ action, ...host, version });
    else process.stdout.write(`${drain ? 'drained' : 'undrained'} host ${host.ip}:${host.port} of module ${host.modid}:${host.cmdid} (route version ${version})${drain ? '; dns serves it with weight 0 until lars route undrain' : ''}\n`);
    return 0;
  };
}

/** lars route revert MODID CMDID VERSION [--dry-run]: the module as the change log recorded it at VERSION (docs/store.md, "Reverting a route"). */
async function revert(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_OPTIONS, 'dry-run': { type: 'boolean' } });
  if (positionals.length !== 3) throw new UsageError(`expected revert MODID CMDID VERSION: ${FORMS}`);
  const [modid, cmdid, version] = [integerArg('MODID', positionals[0]), integerArg('CMDID', positionals[1]), integerArg('VERSION', positionals[2])];
  const dryRun = values['dry-run'] ?? false;
  const result = await withStore(values, 'write', (store) => new RouteAdmin(store).revertModule(modid, cmdid, version, cliActor(), { dryRun }));
  if (values.json) {
    printJson(result);
    return 0;
  }
  const recorded = result.revertedTo === version ? `version ${version}` : `version ${result.revertedTo} (the state recorded at ${version})`;
  if (result.edits.length === 0) {
    process.stdout.write(`module ${modid}:${cmdid} is already as it was at ${recorded}\n`);
    return 0;
  }
  printTable(['ACTION', 'DETAIL'], result.edits.map((e) => [e.action, e.detail]));
  process.stdout.write(
    dryRun ? `dry run: ${result.edits.length} edits would put module ${modid}:${cmdid} back to ${recorded}\n` : `module ${modid}:${cmdid} is back to ${recorded} (route version ${result.version})\n`,
  );
  return 0;
}

/** lars route find IP[:PORT]: the host in every module that serves it, configured or registered. */
async function find(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 1) throw new UsageError(`expected find IP[:PORT]: ${FORMS}`);
  const [ip, port, extra] = positionals[0]!.split(':');
  if (extra !== undefined) throw new UsageError(`expected find IP[:PORT], got ${JSON.stringify(positionals[0])}`);
  const query = { ip, port: port === undefined ? undefined : integerArg('PORT', port) };
  const { version, hosts: routes, where } = await withStore(values, 'read', async (store) => ({ ...(await new RouteAdmin(store).findServedHosts(query)), where: store.describe() }));
  printRoutes({ version, routes, where }, values.json, `(${positionals[0]} is in no route)`);
  return 0;
}

export const run = editListCommand('route', FORMS, edit, list, { find, revert, drain: drainCommand(true), undrain: drainCommand(false) });
