/**
 * lars gethost MODID CMDID [--key KEY] [--agent HOST[:BASE_PORT]] [--timeout MS] [--json]
 * Asks the agent for one host of the route. Exit 0 with the host, 1 when the
 * agent answers OVERLOAD/NOEXIST or does not answer.
 */
import { parseAgentAddress, DEFAULT_AGENT_ADDRESS } from '../../client/agent-address.js';
import { LarsClient, LarsTimeoutError } from '../../client/lars-client.js';
import { RetCode, retCodeName } from '../../protocol/retcode.js';
import { CommandError, parseCommand, parseIntArg, printJson, UsageError } from '../args.js';

/** Flags every client tool takes. */
export const CLIENT_TOOL_OPTIONS = {
  agent: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A LarsClient for --agent/--timeout; bad values are usage errors. */
export function clientFromFlags(values: { agent?: string; timeout?: string }): { client: LarsClient; where: string } {
  let address;
  try {
    address = parseAgentAddress(values.agent ?? DEFAULT_AGENT_ADDRESS);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const timeoutMs = values.timeout === undefined ? 1000 : parseIntArg('--timeout', values.timeout, 1, 600_000);
  return { client: new LarsClient({ ...address, timeoutMs }), where: `${address.host}:${address.basePort}` };
}

/** MODID CMDID as the first two positionals. */
export function routeArgs(positionals: string[], form: string, extra = 0): { modid: number; cmdid: number } {
  if (positionals.length < 2 || positionals.length > 2 + extra) throw new UsageError(`expected ${form}`);
  return { modid: parseIntArg('MODID', positionals[0]), cmdid: parseIntArg('CMDID', positionals[1]) };
}

/** Runs a request; a timeout becomes one clear line and exit 1. */
export async function ask<T>(where: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (err instanceof LarsTimeoutError) throw new CommandError(`${err.message} (agent ${where}; is lars agent running?)`);
    throw err;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...CLIENT_TOOL_OPTIONS, key: { type: 'string' } });
  const { modid, cmdid } = routeArgs(positionals, 'lars gethost MODID CMDID [--key KEY]');
  const { client, where } = clientFromFlags(values);
  try {
    const answer = await ask(where, () => client.getHost(modid, cmdid, { key: values.key }));
    if (values.json) printJson({ modid, cmdid, retcode: answer.retcode, retcodeName: retCodeName(answer.retcode), host: answer.host ?? null });
    else if (answer.host) process.stdout.write(`${answer.host.ip}:${answer.host.port}\n`);
    if (answer.retcode === RetCode.SUCC) return 0;
    process.stderr.write(`lars gethost: ${retCodeName(answer.retcode)}: no host for ${modid}:${cmdid}\n`);
    return 1;
  } finally {
    await client.close();
  }
}
