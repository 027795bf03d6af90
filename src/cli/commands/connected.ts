/**
 * lars connected [--json]
 * Who is connected (docs/console.md, "Connected"): every live dns on the
 * store with its route version, lag and subscribed agents, and every agent
 * host that reports calls, as the console's Connected page shows them.
 */
import { UsageError, ageText, parseCommand, printJson, printTable } from '../args.js';
import { RouteAdmin } from '../../store/route-admin.js';
import { InstanceRegistry } from '../../store/registry.js';
import { CallStatus } from '../../store/status.js';
import { STORE_OPTIONS, withStore } from './db.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, STORE_OPTIONS);
  if (positionals.length !== 0) throw new UsageError('connected takes no arguments: lars connected [--json]');
  const { version, dns, callers, where } = await withStore(values, 'read', async (store) => ({
    version: await new RouteAdmin(store).version(),
    dns: await new InstanceRegistry(store).nodeViews(),
    callers: await new CallStatus(store).callers(),
    where: store.describe(),
  }));
  if (values.json) {
    printJson({ version, dns, callers });
    return 0;
  }
  const now = Date.now() / 1000;
  process.stdout.write(`route version ${version} in ${where}\n`);
  printTable(
    ['DNS', 'ADDRESS', 'BEAT', 'SERVES', 'LAG', 'CONNECTIONS', 'AGENTS'],
    dns.map((n) => [n.nodeId, n.address, ageText(n.heartbeatAt, now), n.report?.routeVersion, n.report && version - n.report.routeVersion, n.report?.connections, n.report && n.report.peers.length + n.report.morePeers]),
    '(no dns is running on this store)',
  );
  for (const n of dns.filter((d) => d.report && d.report.peers.length > 0)) {
    process.stdout.write(`\nagents of ${n.nodeId}:\n`);
    printTable(
      ['AGENT', 'CONNECTED', 'ROUTES', 'LAST PUSH'],
      n.report!.peers.map((p) => [p.address, ageText(p.since, now), p.routes, p.lastPushAt === null ? null : ageText(p.lastPushAt, now)]),
    );
  }
  process.stdout.write('\n');
  printTable(['CALLER', 'ROUTES', 'HOSTS', 'LAST REPORT'], callers.map((c) => [c.caller, c.routes, c.hosts, ageText(c.lastReportAt, now)]), '(no agent has reported calls)');
  return 0;
}
