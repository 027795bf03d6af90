/**
 * npm run bench -- idle [--minutes 10]
 *
 * A healthy idle agent on the defaults (docs/reactor.md, "Keepalive"): `lars
 * dns`, `lars reporter` and `lars agent` children with no settings changed
 * (idle timeout 120 s, keepalive every 30 s), no calls at all for
 * `--minutes`. Beside the agent, a Lars-style client (one pull, then silence,
 * no keepalives) shows what an idle Lars C++ agent meets: it is cut once
 * idle_timeout_s has passed. Prints the agent's connects and keepalives per
 * link and the services' idle cuts every 30 s, and a table at the end.
 */
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MsgId } from '../src/protocol/index.js';
import { openStore, RouteAdmin } from '../src/store/index.js';
import { startLars, type LarsProcess } from '../test/support/cli.js';
import { RawTcpClient, unusedPort } from '../test/support/net.js';
import { table } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const progress = (line: string) => console.log(`[${elapsed().toFixed(1).padStart(6)}s] ${line}`);

/** One value of a Prometheus text page; 0 when absent. */
async function scrape(admin: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

interface Reading {
  dnsConnects: number;
  reporterConnects: number;
  dnsKeepalives: number;
  reporterKeepalives: number;
  dnsUnanswered: number;
  reporterUnanswered: number;
  dnsIdleCuts: number;
  reporterIdleCuts: number;
}

async function read(agent: string, dns: string, reporter: string): Promise<Reading> {
  return {
    dnsConnects: await scrape(agent, 'lars_agent_dns_connects_total'),
    reporterConnects: await scrape(agent, 'lars_agent_reporter_connects_total'),
    dnsKeepalives: await scrape(agent, 'lars_agent_dns_keepalives_sent_total'),
    reporterKeepalives: await scrape(agent, 'lars_agent_reporter_keepalives_sent_total'),
    dnsUnanswered: await scrape(agent, 'lars_agent_dns_keepalive_timeouts_total'),
    reporterUnanswered: await scrape(agent, 'lars_agent_reporter_keepalive_timeouts_total'),
    dnsIdleCuts: await scrape(dns, 'lars_dns_idle_timeouts_total'),
    reporterIdleCuts: await scrape(reporter, 'lars_reporter_idle_timeouts_total'),
  };
}

export default async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { minutes: { type: 'string', default: '10' } } });
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, not ${values.minutes}`);
  const dir = await mkdtemp(join(tmpdir(), 'lars-bench-idle-'));
  const url = `sqlite:${join(dir, 'lars.db')}`;
  const store = await openStore(url);
  await new RouteAdmin(store).addModule({ modid: 1, cmdid: 1 });
  await new RouteAdmin(store).addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
  await store.close();
  const procs: LarsProcess[] = [];
  try {
    const admins = { dns: `127.0.0.1:${await unusedPort()}`, reporter: `127.0.0.1:${await unusedPort()}`, agent: `127.0.0.1:${await unusedPort()}` };
    const dns = await startLars(['dns', '--store', url, '--listen', '127.0.0.1:0', '--admin', admins.dns]);
    procs.push(dns);
    const reporter = await startLars(['reporter', '--store', url, '--listen', '127.0.0.1:0', '--admin', admins.reporter]);
    procs.push(reporter);
    const agent = await startLars(['agent', '--dns', dns.ready.addr!, '--reporter', reporter.ready.addr!, '--udp-base-port', '0', '--admin', admins.agent]);
    procs.push(agent);

    const [dnsHost, dnsPort] = dns.ready.addr!.split(':');
    const larsStyle = await RawTcpClient.connect(Number(dnsPort), dnsHost);
    larsStyle.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    await larsStyle.nextMessage(MsgId.GetRouteResponse);
    const larsQuietSince = performance.now();
    let larsCutAfterS: number | undefined;
    let closingOurselves = false;
    void larsStyle.whenClosed({ timeoutMs: minutes * 60_000 + 60_000 }).then(() => {
      if (closingOurselves) return;
      larsCutAfterS = (performance.now() - larsQuietSince) / 1000;
      progress(`the Lars-style client was cut after ${larsCutAfterS.toFixed(1)} s of silence`);
    });

    progress(`agent, dns and reporter up on the defaults; idle for ${minutes} min`);
    const end = performance.now() + minutes * 60_000;
    let last = await read(admins.agent, admins.dns, admins.reporter);
    while (performance.now() < end) {
      await sleep(Math.min(30_000, end - performance.now()));
      last = await read(admins.agent, admins.dns, admins.reporter);
      progress(
        `agent connects dns=${last.dnsConnects} reporter=${last.reporterConnects}, keepalives dns=${last.dnsKeepalives} reporter=${last.reporterKeepalives}, ` +
          `unanswered=${last.dnsUnanswered + last.reporterUnanswered}; idle cuts dns=${last.dnsIdleCuts} reporter=${last.reporterIdleCuts}`,
      );
    }
    closingOurselves = true;
    await larsStyle.close();
    const larsCuts = larsCutAfterS === undefined ? 0 : 1;
    table(
      ['link', 'silent for', 'connections made', 'keepalives sent', 'keepalives unanswered', 'cut by the service (idle)'],
      [
        ['agent → dns', `${minutes} min`, last.dnsConnects, last.dnsKeepalives, last.dnsUnanswered, last.dnsIdleCuts - larsCuts],
        ['agent → reporter', `${minutes} min`, last.reporterConnects, last.reporterKeepalives, last.reporterUnanswered, last.reporterIdleCuts],
        ['Lars-style client → dns', 'after 1 pull', 1, 0, '—', larsCutAfterS === undefined ? 'no' : `yes, after ${larsCutAfterS.toFixed(1)} s`],
      ],
    );
  } finally {
    for (const p of procs.reverse()) await p.kill();
    await rm(dir, { recursive: true, force: true });
  }
}
