/**
 * lars qps MODID CMDID [CONCURRENCY] [--seconds S] [--gethost-only] [--agent HOST[:BASE_PORT]] [--json]
 * Lars's qps loop through LarsClient: CONCURRENCY clients (one socket each)
 * run getHost then report, back to back, for S seconds. Prints the calls
 * completed each second and the average, with p50/p99 of one iteration.
 * (bench/agent.ts drives a C client for figures the client cannot cap.)
 */
import { RetCode } from '../../protocol/retcode.js';
import { parseCommand, parseIntArg, printJson } from '../args.js';
import { sparkline } from '../charts.js';
import { ask, clientFromFlags, CLIENT_TOOL_OPTIONS, routeArgs } from './gethost.js';

const FORM = 'lars qps MODID CMDID [CONCURRENCY] [--seconds S] [--gethost-only]';
const OPTIONS = { ...CLIENT_TOOL_OPTIONS, seconds: { type: 'string' }, 'gethost-only': { type: 'boolean' } } as const;

/** Nearest-rank percentile of a sorted array. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  const { modid, cmdid } = routeArgs(positionals, FORM, 1);
  const concurrency = positionals[2] === undefined ? 1 : parseIntArg('CONCURRENCY', positionals[2], 1, 1024);
  const seconds = values.seconds === undefined ? 10 : parseIntArg('--seconds', values.seconds, 1, 86_400);
  const clients = Array.from({ length: concurrency }, () => clientFromFlags(values));
  const where = clients[0]!.where;
  const report = !values['gethost-only'];
  let calls = 0;
  let failures = 0;
  let latencies = new Float64Array(1 << 16);
  let samples = 0;
  let running = true;
  const started = performance.now();
  const perSecond: number[] = [];
  let counted = 0;
  const ticker = setInterval(() => {
    perSecond.push(calls - counted);
    counted = calls;
    if (!values.json) process.stdout.write(`second ${perSecond.length}: ${perSecond.at(-1)} calls/s\n`);
    if (perSecond.length >= seconds) running = false;
  }, 1000);
  const loop = async ({ client }: { client: (typeof clients)[number]['client'] }) => {
    while (running) {
      const t0 = performance.now();
      const answer = await ask(where, () => client.getHost(modid, cmdid));
      if (answer.host && report) client.report(modid, cmdid, answer.host, RetCode.SUCC);
      if (answer.retcode !== RetCode.SUCC) failures++;
      if (samples === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[samples++] = performance.now() - t0;
      calls++;
    }
  };
  try {
    await Promise.all(clients.map(loop));
  } finally {
    clearInterval(ticker);
    await Promise.all(clients.map(({ client }) => client.close()));
  }
  const elapsed = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, samples).sort();
  const summary = {
    modid,
    cmdid,
    concurrency,
    mode: report ? 'gethost+report' : 'gethost',
    seconds: elapsed,
    calls,
    notSucc: failures,
    average: Math.round(calls / elapsed),
    perSecond,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
  if (values.json) printJson(summary);
  else {
    if (perSecond.length > 1) {
      process.stdout.write(`calls/s over time: ${sparkline(perSecond)}  (min ${Math.min(...perSecond)}, max ${Math.max(...perSecond)})\n`);
    }
    process.stdout.write(
      `average ${summary.average} calls/s over ${elapsed.toFixed(1)} s with ${concurrency} client(s) (${summary.mode}); ` +
        `p50 ${summary.p50Ms.toFixed(3)} ms, p99 ${summary.p99Ms.toFixed(3)} ms` +
        (failures > 0 ? `; ${failures} answers were not SUCC` : '') +
        '\n',
    );
  }
  return 0;
}
