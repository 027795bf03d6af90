/**
 * lars report MODID CMDID IP PORT RETCODE [--agent HOST[:BASE_PORT]] [--json]
 * Tells the agent how a call went: RETCODE 0 (SUCC) or a failure (1 OVERLOAD,
 * 2 SYSTEM_ERROR, 3 NOEXIST; the names work too). The agent sends no answer.
 */
import { isIPv4 } from '../../protocol/ip.js';
import { RetCode, retCodeName } from '../../protocol/retcode.js';
import { parseCommand, parseIntArg, printJson, UsageError } from '../args.js';
import { clientFromFlags, CLIENT_TOOL_OPTIONS, routeArgs } from './gethost.js';

const FORM = 'lars report MODID CMDID IP PORT RETCODE';

function retcodeArg(text: string | undefined): number {
  const byName = Object.entries(RetCode).find(([name]) => name === text?.toUpperCase());
  if (byName) return byName[1];
  return parseIntArg('RETCODE', text, 0, 3);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, CLIENT_TOOL_OPTIONS);
  if (positionals.length !== 5) throw new UsageError(`expected ${FORM}`);
  const { modid, cmdid } = routeArgs(positionals.slice(0, 2), FORM);
  const ip = positionals[2]!;
  if (!isIPv4(ip)) throw new UsageError(`IP must be a dotted IPv4 address, got ${JSON.stringify(ip)}`);
  const port = parseIntArg('PORT', positionals[3], 1, 65535);
  const retcode = retcodeArg(positionals[4]);
  const { client } = clientFromFlags(values);
  client.report(modid, cmdid, { ip, port }, retcode);
  await client.close();
  if (values.json) printJson({ modid, cmdid, ip, port, retcode, retcodeName: retCodeName(retcode) });
  else process.stdout.write(`reported ${retCodeName(retcode)} for ${ip}:${port} of ${modid}:${cmdid}\n`);
  return 0;
}
