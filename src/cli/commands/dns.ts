/** lars dns --store URL [--listen HOST:PORT] [--workers N] */
import { dnsSection } from '../../dns/config.js';
import { startDns } from '../../dns/service.js';
import { reactorSection } from '../../reactor/config.js';
import { formatEndpoint } from '../../reactor/endpoint.js';
import { createLogger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { parseHostPort } from '../args.js';
import {
  announce,
  attachWorker,
  isDispatcherWorker,
  openServiceStore,
  runUntilSignal,
  serviceConfig,
  startAdmin,
  STORE_SERVICE_OPTIONS,
  superviseWorkers,
  WORKERS_OPTION,
  parseServiceArgs,
} from '../service.js';

const USAGE = `usage: lars dns --store URL [--listen HOST:PORT] [--workers N] [--admin HOST:PORT|off] [--config FILE] [--set dns.KEY=VALUE ...] [--no-migrate]
  --listen   default 0.0.0.0:7778
  --workers  N processes behind a least-connections dispatcher (each keeps its own route table)
  --admin    /healthz and /metrics, default 127.0.0.1:17778`;

export async function run(argv: string[]): Promise<number> {
  const values = parseServiceArgs(argv, { ...STORE_SERVICE_OPTIONS, ...WORKERS_OPTION, listen: { type: 'string' } }, USAGE);
  if (!values) return 0;
  const log = createLogger('dns');
  const config = serviceConfig([dnsSection, reactorSection], values, log);
  const listen = parseHostPort(values.listen ?? '0.0.0.0:7778', '0.0.0.0');
  if (values.workers !== undefined) return superviseWorkers('dns', argv, listen, values.workers, values.admin, log);

  const store = await openServiceStore(values);
  const metrics = new MetricsRegistry();
  const worker = isDispatcherWorker();
  const dns = await startDns({ store, ...listen, listen: !worker, dns: config.dns, reactor: config.reactor, logger: log, metrics }).catch(
    async (err) => {
      await store.close();
      throw err;
    },
  );
  const attachment = worker ? attachWorker((socket) => dns.adopt(socket)) : undefined;
  const admin = await startAdmin(values.admin, '127.0.0.1:17778', metrics, () => dns.health());
  const addr = dns.address ? formatEndpoint({ host: dns.address.address, port: dns.address.port }) : 'dispatcher';
  announce(log, { addr, store: store.describe() }, admin);
  return runUntilSignal(log, async () => {
    await attachment?.close();
    await admin?.close();
    await dns.close();
    await store.close();
  });
}
