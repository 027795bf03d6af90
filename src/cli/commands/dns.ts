/** lars dns --store URL [--listen HOST:PORT] */
import { dnsSection } from '../../dns/config.js';
import { startDns } from '../../dns/service.js';
import { reactorSection } from '../../reactor/config.js';
import { createLogger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { parseCommand, parseHostPort, UsageError } from '../args.js';
import { announce, openServiceStore, runUntilSignal, serviceConfig, startAdmin, STORE_SERVICE_OPTIONS } from '../service.js';

const USAGE = `usage: lars dns --store URL [--listen HOST:PORT] [--admin HOST:PORT|off] [--config FILE] [--set dns.KEY=VALUE ...] [--no-migrate]
  --listen   default 0.0.0.0:7778
  --admin    /healthz and /metrics, default 127.0.0.1:17778`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_SERVICE_OPTIONS, listen: { type: 'string' } });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}\n${USAGE}`);
  const log = createLogger('dns');
  const config = serviceConfig([dnsSection, reactorSection], values, log);
  const listen = parseHostPort(values.listen ?? '0.0.0.0:7778', '0.0.0.0');
  const store = await openServiceStore(values);
  const metrics = new MetricsRegistry();
  const dns = await startDns({ store, ...listen, dns: config.dns, reactor: config.reactor, logger: log, metrics }).catch(async (err) => {
    await store.close();
    throw err;
  });
  const admin = await startAdmin(values.admin, '127.0.0.1:17778', metrics, () => dns.health());
  announce(log, { addr: `${dns.address.address}:${dns.address.port}`, store: store.describe() }, admin);
  return runUntilSignal(log, async () => {
    await admin?.close();
    await dns.close();
    await store.close();
  });
}
