/**
 * The change feed on a PostgreSQL store's own engine: NOTIFY through the
 * store's pool after an edit's commit, LISTEN on one dedicated connection
 * (a pooled one would be handed to other queries). Nothing else to run.
 */
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { ChangeFeed } from './change-feed.js';
import { RemoteFeed, type FeedOptions, type Link, type LinkEvents, type Transport } from './remote-feed.js';
import type { Database } from './schema.js';
import { describeLocation, type PostgresLocation } from './url.js';

/** One channel per database: the stores of two deployments on one server never hear each other. */
export const POSTGRES_CHANNEL = 'lars_route_changes';
/** How the listening connection shows in pg_stat_activity. */
export const POSTGRES_LISTENER_NAME = 'lars notify';

async function listen(location: PostgresLocation, connectTimeoutMs: number, events: LinkEvents): Promise<Link> {
  const client = new pg.Client({
    connectionString: location.connectionString,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: POSTGRES_LISTENER_NAME,
    // A link that died without a FIN (a host gone) is noticed by the kernel's probes, slowly; the poll covers meanwhile.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  client.on('error', (err) => events.lost(err));
  client.on('end', () => events.lost(new Error('connection closed')));
  client.on('notification', (note) => {
    if (note.channel === POSTGRES_CHANNEL) events.message(note.payload ?? '');
  });
  const link = { close: () => void client.end().catch(() => undefined) };
  try {
    await client.connect();
    await client.query(`LISTEN ${POSTGRES_CHANNEL}`);
    return link;
  } catch (err) {
    link.close();
    throw err;
  }
}

export function postgresFeed(
  location: PostgresLocation,
  db: Kysely<Database>,
  options: FeedOptions,
): ChangeFeed {
  const transport: Transport = {
    name: 'postgres',
    where: describeLocation(location),
    listen: (events) => listen(location, options.connectTimeoutMs, events),
    send: async (text) => {
      await sql`select pg_notify(${POSTGRES_CHANNEL}, ${text})`.execute(db);
    },
    close: async () => undefined,
  };
  return new RemoteFeed(transport, options.logger, options.retry, options.reason);
}
