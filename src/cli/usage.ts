/** `lars --help`: every command's form, with the default ports from where each is defined. */
import { DEFAULT_AGENT_ADDRESS } from '../client/agent-address.js';
import { DEFAULT_AGENT_BASE_PORT } from '../protocol/agent-ports.js';
import { DEFAULT_CONSOLE_HOST, DEFAULT_CONSOLE_PORT } from '../console/config.js';
import { DEFAULT_DNS_PORT } from '../dns/config.js';
import { DEFAULT_REPORTER_PORT } from '../reporter/config.js';

export const USAGE = `usage: lars COMMAND [ARGS]

services
  lars up [--data-dir DIR] [--store URL]           every service on one machine (embedded SQLite by default)
          [--host H] [--dns-port ${DEFAULT_DNS_PORT}] [--reporter-port ${DEFAULT_REPORTER_PORT}] [--udp-base-port ${DEFAULT_AGENT_BASE_PORT}] [--console-port ${DEFAULT_CONSOLE_PORT}] [--no-demo]
          [--notify SETTING]                       how edits reach dns at once (auto: in-process, or a PostgreSQL store's own)
  lars dns      --store URL [--listen HOST:PORT]   default 0.0.0.0:${DEFAULT_DNS_PORT}
                [--notify SETTING]                 hear of route edits at once
  lars reporter --store URL [--listen HOST:PORT]   default 0.0.0.0:${DEFAULT_REPORTER_PORT}
  lars agent    --dns HOST:PORT[,...] --reporter HOST:PORT[,...] [--udp-host H] [--udp-base-port ${DEFAULT_AGENT_BASE_PORT}]
  lars console  --store URL [--listen HOST:PORT]   default ${DEFAULT_CONSOLE_HOST}:${DEFAULT_CONSOLE_PORT}
                [--notify SETTING]                 announce each edit to every dns at once
  lars dispatch --listen HOST:PORT --socket PATH [--workers N -- COMMAND...]
  lars serve    --listen HOST:PORT --register MODID CMDID --dns HOST:PORT[,...] [--ttl SECONDS] [--weight W] [--auth-token-file FILE]
                                                   a line-echo server that registers itself

administration
  lars db migrate --store URL
  lars module add MODID CMDID [--description TEXT] [--strategy NAME]
              | update MODID CMDID [--description TEXT] [--strategy NAME|default] | del MODID CMDID | list
  lars route  add MODID CMDID IP PORT [--weight W] | update MODID CMDID IP PORT --weight W
              | del MODID CMDID IP PORT | list [MODID CMDID]           list: configured and registered hosts
              | find IP[:PORT]                                     that host in every module
              | drain|undrain MODID CMDID IP PORT                  maintenance: served with weight 0, its weight kept
              | revert MODID CMDID VERSION [--dry-run]             the module as it was at that route version
  lars instances [MODID CMDID] | drain MODID CMDID IP PORT | weight MODID CMDID IP PORT W
              | undrain MODID CMDID IP PORT                        servers registered with dns (--help for each)
  lars user   add NAME --role admin|editor|viewer | passwd NAME | role NAME admin|editor|viewer | disable|enable NAME | del NAME | list
              | grant|ungrant NAME MODID[:CMDID]                  the modules an editor may change (MODID alone: every cmdid)
              | audit [--limit N]                                  sign-ins and account changes, newest first
  lars token  add NAME --user USER [--expires-days N|never] [--scope full|read] | list [--user USER] | revoke ID
  lars connected                                   each dns with its agents; the agent hosts that report calls
  lars export [--output FILE]                      every module and configured host as one JSON document
  lars import json FILE|- [--dry-run] [--prune]    make the store hold what such a document states (all or nothing)
  lars import lars --from mysql://USER@HOST:PORT/DB [--dry-run]   a Lars database's routes and latest status (all or nothing)
  lars status [MODID CMDID] [--window 5m]        per host and caller: calls and durations in the window, latest state
              | MODID CMDID --series 30m|6h|7d    calls per host over time, with a picture

client tools (--agent HOST[:BASE_PORT], default ${DEFAULT_AGENT_ADDRESS})
  lars gethost MODID CMDID | getroute MODID CMDID | report MODID CMDID IP PORT RETCODE [--duration-ms MS]
  lars simulator MODID CMDID [ERR_RATE_0_10] [QUERIES] [--fail IP:PORT ...] [--rate CALLS_PER_S]
  lars qps MODID CMDID [CONCURRENCY] [--seconds S] [--gethost-only]

balancing quality (a seeded simulation, no sockets)
  lars simulate [--scenario NAME[,NAME...]] [--strategy NAME[,NAME...]] [--seed N] [--svg DIR]

--store defaults to $LARS_STORE, then to sqlite:lars-data/lars.db. Commands that print data take --json.
--notify SETTING (up, dns, console, module, route, instances, import): auto, off, postgres, in-process or redis://HOST:PORT; default $LARS_NOTIFY, then [notify] url, then auto.
lars --version prints the version; lars COMMAND --help a command's form.
`;

/**
 * `lars NAME --help`: NAME's lines of USAGE (its form and the continuation
 * lines under it), so each command's help is the one catalogue above.
 */
export function commandUsage(name: string): string {
  const lines = USAGE.split('\n');
  const picked: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.startsWith('  lars ')) inside = line.startsWith(`  lars ${name} `) || line.includes(`| ${name} `);
    else if (!/^ {4,}/.test(line)) inside = false;
    if (inside) picked.push(line);
  }
  return `usage:\n${picked.join('\n')}\n\n${lines.filter((l) => l.startsWith('--store') || l.startsWith('--notify')).join('\n')}\n`;
}
