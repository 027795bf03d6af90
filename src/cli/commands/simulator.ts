/**
 * lars simulator MODID CMDID [ERR_RATE_0_10] [QUERIES] [--fail IP:PORT ...] [--rate CALLS_PER_S]
 *                [--agent HOST[:BASE_PORT]] [--json]
 * Plays business code (Lars's run_lars simulator): QUERIES times get a host,
 * "call" it, and report the call as failed with probability ERR_RATE/10, or
 * always for the hosts named by --fail. Prints each host's successes, errors
 * and the calls it got while overloaded (probes); with our agent it also
 * follows each host's balancer state (extension message 100) and prints
 * every healthy <-> overloaded transition as it happens.
 */
import type { RouteStatusHost } from '../../protocol/route-status.js';
import { LarsTimeoutError, type LarsClient } from '../../client/lars-client.js';
import { isIPv4 } from '../../protocol/ip.js';
import { RetCode } from '../../protocol/retcode.js';
import { parseCommand, parseIntArg, printJson, printTable, UsageError } from '../args.js';
import { bar } from '../charts.js';
import { hostStateName, type HostStateName } from '../host-state.js';
import { ask, clientFromFlags, CLIENT_TOOL_OPTIONS, routeArgs } from './gethost.js';

const FORM = 'lars simulator MODID CMDID [ERR_RATE_0_10] [QUERIES] [--fail IP:PORT ...] [--rate CALLS_PER_S]';

const OPTIONS = { ...CLIENT_TOOL_OPTIONS, fail: { type: 'string', multiple: true }, rate: { type: 'string' } } as const;

interface HostTally {
  host: string;
  succ: number;
  err: number;
  /** Calls it got while the agent had it overloaded. */
  probes: number;
  /** Times it went healthy -> overloaded, and back. */
  overloads: number;
  recoveries: number;
  state: HostStateName | 'unknown';
}

interface Transition {
  call: number;
  atMs: number;
  host: string;
  to: HostStateName;
}

function failHosts(values: string[] | undefined): Set<string> {
  const hosts = new Set<string>();
  for (const text of values ?? []) {
    const [ip, port] = text.split(':');
    if (!ip || !isIPv4(ip) || !/^\d+$/.test(port ?? '') || Number(port) < 1 || Number(port) > 65535) {
      throw new UsageError(`--fail takes IP:PORT, got ${JSON.stringify(text)}`);
    }
    hosts.add(`${ip}:${Number(port)}`);
  }
  return hosts;
}

/** The agent's host states, or null when it does not know the extension (a Lars agent). */
async function hostStates(client: LarsClient, modid: number, cmdid: number): Promise<Map<string, RouteStatusHost> | null> {
  try {
    const status = await client.routeStatus(modid, cmdid);
    return new Map(status.hosts.map((h) => [`${h.ip}:${h.port}`, h]));
  } catch (err) {
    if (err instanceof LarsTimeoutError) return null;
    throw err;
  }
}

/** A host with every call fills this many cells. */
const SHARE_BAR_WIDTH = 40;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  const { modid, cmdid } = routeArgs(positionals, FORM, 2);
  const errRate = positionals[2] === undefined ? 0 : parseIntArg('ERR_RATE_0_10', positionals[2], 0, 10);
  const queries = positionals[3] === undefined ? 10 : parseIntArg('QUERIES', positionals[3], 1, 100_000_000);
  const failing = failHosts(values.fail);
  const rate = values.rate === undefined ? 0 : parseIntArg('--rate', values.rate, 1, 1_000_000);
  const { client, where } = clientFromFlags(values);
  const tallies = new Map<string, HostTally>();
  const transitions: Transition[] = [];
  const answers = { succ: 0, overload: 0, noexist: 0, error: 0 };
  const started = performance.now();
  let tracking = true;
  try {
    for (let call = 1; call <= queries; call++) {
      if (rate > 0) {
        const due = started + ((call - 1) * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const answer = await ask(where, () => client.getHost(modid, cmdid));
      if (answer.retcode === RetCode.OVERLOAD) answers.overload++;
      else if (answer.retcode === RetCode.NOEXIST) answers.noexist++;
      else if (answer.retcode !== RetCode.SUCC) answers.error++;
      if (!answer.host) continue;
      answers.succ++;
      const key = `${answer.host.ip}:${answer.host.port}`;
      let tally = tallies.get(key);
      if (tally === undefined) {
        tally = { host: key, succ: 0, err: 0, probes: 0, overloads: 0, recoveries: 0, state: 'unknown' };
        tallies.set(key, tally);
      }
      if (tally.state === 'overloaded') tally.probes++;
      const failed = failing.has(key) || Math.random() * 10 < errRate;
      if (failed) tally.err++;
      else tally.succ++;
      client.report(modid, cmdid, answer.host, failed ? RetCode.SYSTEM_ERROR : RetCode.SUCC);
      if (!tracking) continue;
      // Asked after the report on the same socket and port, so the agent has applied it.
      const states = await hostStates(client, modid, cmdid);
      if (states === null) {
        tracking = false;
        if (!values.json) process.stdout.write('(the agent does not report host states: not a lars-ts agent)\n');
        continue;
      }
      for (const [host, state] of states) {
        let t = tallies.get(host);
        if (t === undefined) {
          t = { host, succ: 0, err: 0, probes: 0, overloads: 0, recoveries: 0, state: 'unknown' };
          tallies.set(host, t);
        }
        const now = hostStateName(state.overloaded);
        if (t.state !== 'unknown' && t.state !== now) {
          if (now === 'overloaded') t.overloads++;
          else t.recoveries++;
          const transition = { call, atMs: Math.round(performance.now() - started), host, to: now } as const;
          transitions.push(transition);
          if (!values.json) {
            const from = hostStateName(now !== 'overloaded');
            process.stdout.write(`call ${call} (${(transition.atMs / 1000).toFixed(1)} s): ${host} ${from} -> ${now}\n`);
          }
        }
        t.state = now;
      }
    }
  } finally {
    await client.close();
  }
  const hosts = [...tallies.values()].sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }));
  const seconds = (performance.now() - started) / 1000;
  if (values.json) {
    printJson({ modid, cmdid, queries, errRate, failing: [...failing], seconds, answers, hosts, transitions });
    return 0;
  }
  const calls = hosts.reduce((sum, h) => sum + h.succ + h.err, 0);
  const share = (h: (typeof hosts)[number]): string => {
    const fraction = calls === 0 ? 0 : (h.succ + h.err) / calls;
    return `${(fraction * 100).toFixed(1).padStart(5)}% ${bar(fraction, SHARE_BAR_WIDTH)}`;
  };
  printTable(
    ['HOST', 'SUCC', 'ERR', 'PROBES', 'OVERLOADS', 'RECOVERIES', 'STATE', 'SHARE OF CALLS'],
    hosts.map((h) => [h.host, h.succ, h.err, h.probes, h.overloads, h.recoveries, h.state, share(h)]),
    `(no host given for ${modid}:${cmdid})`,
  );
  process.stdout.write(
    `${queries} queries in ${seconds.toFixed(1)} s: ${answers.succ} got a host, ${answers.overload} OVERLOAD, ${answers.noexist} NOEXIST` +
      (answers.error > 0 ? `, ${answers.error} SYSTEM_ERROR` : '') +
      '\n',
  );
  return 0;
}
