/** lars dns --store URL [--listen HOST:PORT] [--workers N] */
import { dnsSection } from '../../dns/config.js';
import { startDns } from '../../dns/service.js';
import { reactorSection } from '../../reactor/config.js';
import { runStoreService } from '../service.js';

const USAGE = `usage: lars dns --store URL [--listen HOST:PORT] [--workers N] [--admin HOST:PORT|off] [--config FILE] [--set dns.KEY=VALUE ...] [--no-migrate]
  --listen   default 0.0.0.0:7778
  --workers  N processes behind a least-connections dispatcher (each keeps its own route table)
  --admin    /healthz and /metrics, default 127.0.0.1:17778`;

export function run(argv: string[]): Promise<number> {
  return runStoreService(argv, {
    name: 'dns',
    usage: USAGE,
    sections: [dnsSection, reactorSection],
    defaultListen: '0.0.0.0:7778',
    defaultAdmin: '127.0.0.1:17778',
    start: ({ config, ...context }) => startDns({ ...context, dns: config.dns, reactor: config.reactor }),
  });
}
