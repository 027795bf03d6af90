/**
 * The real dns and reporter, in the test's process, over a SQLite store in
 * a temp dir with three routes, one per agent port ((modid + cmdid) % 3 is
 * 0, 1 and 2), each with one host: what tests of the agent's ports need to
 * see every port answer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsService } from '../../src/dns/service.js';
import type { Reporter } from '../../src/reporter/service.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { openStore } from '../../src/store/store.js';
import { startDnsHere, startReporterHere, type LocalService } from './services.js';

export interface PortRouteServices {
  readonly admin: RouteAdmin;
  readonly dns: LocalService<DnsService>;
  readonly reporter: LocalService<Reporter>;
  /** routes[i] is served by agent port i. */
  readonly routes: readonly { modid: number; cmdid: number }[];
  /** The one host of routes[i]. */
  hostOf(index: number): { ip: string; port: number };
  stop(): Promise<void>;
}

/** Seeds three cmdids of `modid` (1..65), hosts 10.<modid>.<i>.1, port <modid>000 + i, and starts dns (with `dnsSet`) and reporter. */
export async function startPortRouteServices(modid: number, dnsSet: string[] = []): Promise<PortRouteServices> {
  const dir = await mkdtemp(join(tmpdir(), 'lars-port-routes-'));
  const store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
  const admin = new RouteAdmin(store);
  const first = 3 - (modid % 3);
  const routes = [0, 1, 2].map((i) => ({ modid, cmdid: first + i }));
  const hostOf = (index: number) => ({ ip: `10.${modid}.${index}.1`, port: modid * 1000 + index });
  for (const [index, route] of routes.entries()) {
    await admin.addModule(route);
    await admin.addHost({ ...route, ...hostOf(index) });
  }
  const dns = await startDnsHere({ store, set: dnsSet });
  const reporter = await startReporterHere({ store });
  return {
    admin,
    dns,
    reporter,
    routes,
    hostOf,
    async stop() {
      await reporter.stop();
      await dns.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
