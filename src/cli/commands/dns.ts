/** lars dns --store URL [--listen HOST:PORT] [--workers N] */
import { DEFAULT_DNS_ADMIN_PORT, DEFAULT_DNS_PORT, DNS_CONFIG_SECTIONS } from '../../dns/config.js';
import { startDns } from '../../dns/service.js';
import { runStoreService } from '../store-service.js';

const USAGE = `usage: lars dns --store URL [--listen HOST:PORT] [--workers N] [--notify auto|off|postgres|redis://HOST:PORT] [--admin HOST:PORT|off]
                [--config FILE] [--set dns.KEY=VALUE ...] [--no-migrate]
  --listen   default 0.0.0.0:${DEFAULT_DNS_PORT}
  --notify   hear of route edits at once (default $LARS_NOTIFY, then [notify] url, then auto: the store's own LISTEN/NOTIFY when it is PostgreSQL)
  --workers  N processes behind a least-connections dispatcher (each keeps its own route table)
  --admin    /healthz and /metrics, default 127.0.0.1:${DEFAULT_DNS_ADMIN_PORT}`;

export function run(argv: string[]): Promise<number> {
  return runStoreService(argv, {
    name: 'dns',
    usage: USAGE,
    sections: DNS_CONFIG_SECTIONS,
    defaultListen: `0.0.0.0:${DEFAULT_DNS_PORT}`,
    defaultAdmin: `127.0.0.1:${DEFAULT_DNS_ADMIN_PORT}`,
    notifies: true,
    start: startDns,
  });
}
