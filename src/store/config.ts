/** The [notify] config section: how route edits are announced to every dns (docs/dns.md, "Notification"). */
import { defineSection, int, str, type FieldValues } from '../reactor/config.js';
import { DEFAULT_FEED_RETRY, type NotifyOptions } from './change-feed.js';
import type { Logger } from '../reactor/log.js';

export const notifySection = defineSection(
  'notify',
  {
    /**
     * Empty: the store's own engine when it is PostgreSQL, in-process under
     * lars up, else none; or off, postgres, in-process, redis://HOST:PORT.
     * --notify and LARS_NOTIFY win over it.
     */
    url: str({ default: '' }),
    /** Reconnect backoff of a lost notification link (full jitter): ceiling of the first delay... */
    retry_initial_ms: int({ default: DEFAULT_FEED_RETRY.initialMs, min: 1 }),
    /** ...and of every delay. The poll carries edits meanwhile. */
    retry_max_ms: int({ default: DEFAULT_FEED_RETRY.maxMs, min: 1 }),
  },
  (values) => (values.retry_max_ms < values.retry_initial_ms ? [`retry_max_ms (${values.retry_max_ms}) must be >= retry_initial_ms (${values.retry_initial_ms})`] : []),
);

export type NotifyConfig = FieldValues<typeof notifySection.fields>;

/** The environment variable that names the transport, beside LARS_STORE (and stronger than [notify] url). */
export const NOTIFY_ENV = 'LARS_NOTIFY';

/**
 * The one path from flag, environment and config to a store's NotifyOptions:
 * --notify, then $LARS_NOTIFY, then [notify] url.
 */
export function notifyOptions(flag: string | undefined, config: NotifyConfig, logger: Logger, extra: Pick<NotifyOptions, 'oneProcess'> = {}): NotifyOptions {
  return {
    setting: flag ?? process.env[NOTIFY_ENV] ?? config.url,
    logger,
    retry: { initialMs: config.retry_initial_ms, maxMs: config.retry_max_ms },
    ...extra,
  };
}
