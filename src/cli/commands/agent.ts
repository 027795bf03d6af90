/**
 * lars agent --dns HOST:PORT[,...] --reporter HOST:PORT[,...] [--udp-host H] [--udp-base-port PORT]
 *            [--caller IP] [--admin HOST:PORT|off] [--config FILE] [--set section.key=value ...]
 */
import { AGENT_CONFIG_SECTIONS, agentSection, DEFAULT_AGENT_ADMIN_PORT } from '../../agent/config.js';
import { keepYoungGenerationSmall } from '../../agent/heap-limits.js';
import { startAgent } from '../../agent/service.js';
import { createLogger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { CommandError } from '../args.js';
import { announce, runUntilSignal, serviceConfig, SERVICE_OPTIONS, startAdmin, parseServiceArgs } from '../service.js';

const { udp_host: udpHost, udp_base_port: udpBasePort } = agentSection.fields;

const USAGE = `usage: lars agent --dns HOST:PORT[,...] --reporter HOST:PORT[,...] [--udp-host H] [--udp-base-port ${udpBasePort.default}]
                  [--caller IP] [--admin HOST:PORT|off] [--config FILE] [--set SECTION.KEY=VALUE ...]
  --udp-host       address of the three UDP ports, default ${udpHost.default} (this machine only)
  --udp-base-port  first of three consecutive ports, default ${udpBasePort.default} (0: any free three)
  --caller         this machine's IPv4 in reports, default its first non-loopback IPv4
  --admin          /healthz and /metrics, default 127.0.0.1:${DEFAULT_AGENT_ADMIN_PORT}
  --config, --set  sections [agent], [loadbalance] (Lars's keys) and [reactor]: see docs/agent.md`;

const OPTIONS = {
  ...SERVICE_OPTIONS,
  dns: { type: 'string' },
  reporter: { type: 'string' },
  'udp-host': { type: 'string' },
  'udp-base-port': { type: 'string' },
  caller: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const values = parseServiceArgs(argv, OPTIONS, USAGE);
  if (!values) return 0;
  const log = createLogger('agent');
  // Flags are the [agent] keys of highest precedence; --set may name the same keys.
  const flagSettings = [
    ['dns', values.dns],
    ['reporter', values.reporter],
    ['udp_host', values['udp-host']],
    ['udp_base_port', values['udp-base-port']],
    ['caller', values.caller],
  ].flatMap(([key, value]) => (value === undefined ? [] : [`agent.${key}=${value}`]));
  const config = serviceConfig(AGENT_CONFIG_SECTIONS, { ...values, set: [...(values.set ?? []), ...flagSettings] }, log);
  const metrics = new MetricsRegistry();
  keepYoungGenerationSmall();
  let agent;
  try {
    agent = await startAgent({ ...config, logger: log, metrics });
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
  const started = agent;
  const admin = await startAdmin(values.admin, `127.0.0.1:${DEFAULT_AGENT_ADMIN_PORT}`, metrics, () => started.health()).catch(async (err) => {
    await started.close();
    throw err;
  });
  announce(log, { udp: `${started.host}:${started.ports.join(',')}` }, admin);
  return runUntilSignal(log, async () => {
    await admin?.close();
    await started.close();
  });
}
