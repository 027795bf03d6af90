/**
 * lars report MODID CMDID IP PORT RETCODE [--duration-ms MS] [--agent HOST[:BASE_PORT]] [--json]
 * Tells the agent how a call went: RETCODE 0 (SUCC) or a failure (1 OVERLOAD,
 * 2 SYSTEM_ERROR, 3 NOEXIST; the names work too), and with --duration-ms how
 * long it took (milliseconds, fractions allowed; sent in whole µs as
 * ReportRequest field 5, docs/client.md). The agent sends no answer.
 */
import { reportedDurationUs } from '../../client/lars-client.js';
import { isIPv4 } from '../../protocol/ip.js';
import { RetCode, retCodeName } from '../../protocol/retcode.js';
import { parseCommand, parseIntArg, printJson, UsageError } from '../args.js';
import { clientFromFlags, CLIENT_TOOL_OPTIONS, routeArgs } from './gethost.js';

const FORM = 'lars report MODID CMDID IP PORT RETCODE [--duration-ms MS]';

function retcodeArg(text: string | undefined): number {
  const byName = Object.entries(RetCode).find(([name]) => name === text?.toUpperCase());
  if (byName) return byName[1];
  return parseIntArg('RETCODE', text, 0, 3);
}

/** --duration-ms: a plain decimal number of ms; the client's own rule (reportedDurationUs) judges its range. */
function durationArg(text: string): number {
  const problem = `--duration-ms must be a number of milliseconds >= 0 (e.g. 12.5), got ${JSON.stringify(text)}`;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(problem);
  const durationMs = Number(text);
  try {
    reportedDurationUs(durationMs);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(problem);
    throw err;
  }
  return durationMs;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...CLIENT_TOOL_OPTIONS, 'duration-ms': { type: 'string' } });
  if (positionals.length !== 5) throw new UsageError(`expected ${FORM}`);
  const { modid, cmdid } = routeArgs(positionals.slice(0, 2), FORM);
  const ip = positionals[2]!;
  if (!isIPv4(ip)) throw new UsageError(`IP must be a dotted IPv4 address, got ${JSON.stringify(ip)}`);
  const port = parseIntArg('PORT', positionals[3], 1, 65535);
  const retcode = retcodeArg(positionals[4]);
  const durationMs = values['duration-ms'] === undefined ? undefined : durationArg(values['duration-ms']);
  const { client } = clientFromFlags(values);
  client.report(modid, cmdid, { ip, port }, retcode, { durationMs });
  await client.close();
  if (values.json) printJson({ modid, cmdid, ip, port, retcode, retcodeName: retCodeName(retcode), durationMs: durationMs ?? null });
  else process.stdout.write(`reported ${retCodeName(retcode)}${durationMs === undefined ? '' : ` in ${durationMs} ms`} for ${ip}:${port} of ${modid}:${cmdid}\n`);
  return 0;
}
