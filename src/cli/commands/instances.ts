/**
 * lars instances [MODID CMDID] | drain MODID CMDID IP PORT | weight MODID CMDID IP PORT W
 *                | undrain MODID CMDID IP PORT
 * The instances servers registered with dns (docs/registry.md), with their
 * heartbeat and load, and the operator's weight for one: kept apart from the
 * instance, so a drain holds across its re-registrations until undrain.
 * Range checks are RouteAdmin's, as for `lars route` and the console.
 */
import { UsageError, ageText, parseCommand, printJson, printTable } from '../args.js';
import { RouteAdmin, type HostRef } from '../../store/route-admin.js';
import type { InstanceView } from '../../store/served-hosts.js';
import { STORE_OPTIONS, cliActor, hostRefArgs, integerArg, withStore } from './db.js';

const FORMS =
  'lars instances [MODID CMDID] | drain MODID CMDID IP PORT | weight MODID CMDID IP PORT W | undrain MODID CMDID IP PORT';

const OPTIONS = { ...STORE_OPTIONS, help: { type: 'boolean', short: 'h' } } as const;

type Values = { store?: string; 'data-dir'?: string; json?: boolean; help?: boolean };

type EditAction = 'drain' | 'weight' | 'undrain';

const FLAGS = '[--store URL] [--json]';

const LIST_HELP = `usage: lars instances [MODID CMDID] ${FLAGS}
       lars instances drain | weight | undrain ... (lars instances drain --help)

The instances servers registered with dns, every one or one module's, with
the weight served, the load they last reported, their last heartbeat (kept
to within heartbeat_store_s), TTL and owning dns. NOTE says DRAINED for weight
0, and SHADOWED when a configured host at the same address serves instead.`;

const EDIT_HELP: Record<EditAction, string> = {
  drain: `usage: lars instances drain MODID CMDID IP PORT ${FLAGS}

Gives the instance the operator weight 0: agents stop sending it new calls.
The drain is kept apart from the instance, so it holds when the server
registers again, until lars instances undrain.`,
  weight: `usage: lars instances weight MODID CMDID IP PORT W ${FLAGS}

Serves the instance with weight W (0..1000) instead of the one it registers,
across its re-registrations, until lars instances undrain.`,
  undrain: `usage: lars instances undrain MODID CMDID IP PORT ${FLAGS}

Removes the operator's weight (a drain or lars instances weight): the instance
serves with the weight it registers again.`,
};

const EDITED: Record<EditAction, (weight: number | undefined) => string> = {
  drain: () => 'drained',
  weight: (weight) => `set weight ${weight} on`,
  undrain: () => 'undrained',
};

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  const [sub, ...rest] = positionals;
  if (sub === 'drain' || sub === 'weight' || sub === 'undrain') return edit(sub, rest, values);
  if (values.help) return help(LIST_HELP);
  return list(positionals, values);
}

function help(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}

const sameInstance = (key: HostRef) => (i: InstanceView) => i.ip === key.ip && i.port === key.port;

async function edit(action: EditAction, args: string[], values: Values): Promise<number> {
  if (values.help) return help(EDIT_HELP[action]);
  const arity = action === 'weight' ? 5 : 4;
  if (args.length !== arity) throw new UsageError(`expected ${action} MODID CMDID IP PORT${action === 'weight' ? ' W' : ''}: ${FORMS}`);
  const key = hostRefArgs(args);
  const weight = action === 'drain' ? 0 : action === 'weight' ? integerArg('W', args[4]) : undefined;
  const { version, registered } = await withStore(values, 'write', async (store) => {
    const admin = new RouteAdmin(store);
    const version =
      weight === undefined ? await admin.clearInstanceWeight(key, cliActor()) : await admin.setInstanceWeight({ ...key, weight }, cliActor());
    const { instances } = await admin.listInstances(key);
    return { version, registered: instances.some(sameInstance(key)) };
  });
  const name = `instance ${key.ip}:${key.port} of module ${key.modid}:${key.cmdid}`;
  if (values.json) {
    printJson({ action, ...key, ...(weight === undefined ? {} : { weight }), registered, version });
    return 0;
  }
  process.stdout.write(`${EDITED[action](weight)} ${name} (route version ${version})\n`);
  if (!registered && weight !== undefined) process.stderr.write(`note: no ${name} is registered now; the weight applies when it registers\n`);
  return 0;
}

/** The table's last column: why the instance gets less or no traffic, or a weight that is not its own. */
function note(i: InstanceView): string | null {
  if (i.shadowed) return 'SHADOWED: a configured host at this address serves instead';
  if (i.drained) return i.overrideWeight === 0 ? 'DRAINED' : 'DRAINED (registered with weight 0)';
  if (i.overrideWeight !== null) return `operator weight (registered ${i.registeredWeight})`;
  return null;
}

async function list(positionals: string[], values: Values): Promise<number> {
  if (positionals.length !== 0 && positionals.length !== 2) throw new UsageError(`expected [MODID CMDID]: ${FORMS}`);
  const filter = positionals.length === 2 ? { modid: integerArg('MODID', positionals[0]), cmdid: integerArg('CMDID', positionals[1]) } : undefined;
  const { instances, where } = await withStore(values, 'read', async (store) => ({ ...(await new RouteAdmin(store).listInstances(filter)), where: store.describe() }));
  if (values.json) {
    printJson({ instances });
    return 0;
  }
  const now = Date.now() / 1000;
  printTable(
    ['MODID', 'CMDID', 'IP', 'PORT', 'WEIGHT', 'LOAD', 'HEARTBEAT', 'TTL', 'OWNER', 'NOTE'],
    instances.map((i) => [i.modid, i.cmdid, i.ip, i.port, i.weight, i.load?.score, ageText(i.lastHeartbeat, now), `${i.ttl}s`, i.owner, note(i)]),
    `(no registered instances in ${where})`,
  );
  return 0;
}
export const ownHelp = true;
