#!/usr/bin/env node
/**
 * The `lars` command. Each subcommand lives in commands/<name>.ts and is
 * loaded on demand, so a quick client tool does not load the services.
 */
import { DEFAULT_AGENT_ADDRESS } from '../client/agent-address.js';
import { DEFAULT_AGENT_BASE_PORT } from '../client/ports.js';
import { DEFAULT_CONSOLE_HOST, DEFAULT_CONSOLE_PORT } from '../console/config.js';
import { DEFAULT_DNS_PORT } from '../dns/config.js';
import { DEFAULT_REPORTER_PORT } from '../reporter/config.js';
import { CommandError, UsageError } from './args.js';

const USAGE = `usage: lars COMMAND [ARGS]

services
  lars up [--data-dir DIR] [--store URL]           every service on one machine (embedded SQLite by default)
  lars dns      --store URL [--listen HOST:PORT]   default 0.0.0.0:${DEFAULT_DNS_PORT}
  lars reporter --store URL [--listen HOST:PORT]   default 0.0.0.0:${DEFAULT_REPORTER_PORT}
  lars agent    --dns HOST:PORT[,...] --reporter HOST:PORT[,...] [--udp-host H] [--udp-base-port ${DEFAULT_AGENT_BASE_PORT}]
  lars console  --store URL [--listen HOST:PORT]   default ${DEFAULT_CONSOLE_HOST}:${DEFAULT_CONSOLE_PORT}
  lars dispatch --listen HOST:PORT --socket PATH [--workers N -- COMMAND...]

administration
  lars db migrate --store URL
  lars module add MODID CMDID [--description TEXT] | del MODID CMDID | list
  lars route  add MODID CMDID IP PORT [--weight W] | update MODID CMDID IP PORT --weight W
              | del MODID CMDID IP PORT | list [MODID CMDID]
  lars user   add NAME --role admin|viewer | passwd NAME | del NAME | list
  lars status [MODID CMDID]

client tools (--agent HOST[:BASE_PORT], default ${DEFAULT_AGENT_ADDRESS})
  lars gethost MODID CMDID | getroute MODID CMDID | report MODID CMDID IP PORT RETCODE
  lars simulator MODID CMDID [ERR_RATE_0_10] [QUERIES] | qps MODID CMDID [CONCURRENCY] [--seconds S]

--store defaults to $LARS_STORE, then to sqlite:lars-data/lars.db. Commands that print data take --json.
`;

const COMMANDS = new Set([
  'up', 'dns', 'reporter', 'agent', 'console', 'dispatch', 'db', 'module', 'route', 'user', 'status',
  'gethost', 'getroute', 'report', 'simulator', 'qps',
]);

export interface Command {
  /** Returns the exit code, or nothing for 0. Long-running services resolve when they stop. */
  run(argv: string[]): Promise<number | void>;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  if (!COMMANDS.has(name)) {
    process.stderr.write(`lars: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  try {
    const command = (await import(`./commands/${name}.js`)) as Command;
    return (await command.run(rest)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`lars ${name}: ${err.message}\n(run lars --help for the forms)\n`);
      return 2;
    }
    const message = err instanceof CommandError ? err.message : (err as Error).stack ?? String(err);
    process.stderr.write(`lars ${name}: ${message}\n`);
    return 1;
  }
}

// Exit explicitly: a failed service start may leave sockets or timers open.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`lars: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
