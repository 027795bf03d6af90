/** lars getroute MODID CMDID [--agent HOST[:BASE_PORT]] [--timeout MS] [--json]: the route's hosts as the agent holds them. */
import { printJson, printTable, parseCommand } from '../args.js';
import { ask, clientFromFlags, CLIENT_TOOL_OPTIONS, routeArgs } from './gethost.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, CLIENT_TOOL_OPTIONS);
  const { modid, cmdid } = routeArgs(positionals, 'lars getroute MODID CMDID');
  const { client, where } = clientFromFlags(values);
  try {
    const hosts = await ask(where, () => client.getRoute(modid, cmdid));
    if (values.json) printJson({ modid, cmdid, hosts });
    else printTable(['IP', 'PORT'], hosts.map((h) => [h.ip, h.port]), `(no hosts for ${modid}:${cmdid})`);
    return 0;
  } finally {
    await client.close();
  }
}
