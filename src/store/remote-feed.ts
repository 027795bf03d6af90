/**
 * A change feed over a link to another system (PostgreSQL, Redis): what both
 * transports share. The listening link opens with the first subscriber; when
 * it is lost the feed says so once, dns keeps polling as it always does, and
 * the link comes back by itself with backoff (src/reactor/backoff.ts); when
 * it is back the feed says so and wakes every subscriber once, since an edit
 * made meanwhile was heard by nobody (docs/dns.md, "Notification").
 */
import { Backoff, type BackoffOptions } from '../reactor/backoff.js';
import { rateLimited, type Logger } from '../reactor/log.js';
import { changeMessage, Listeners, parseChangeMessage, PublishQueue, type ChangeFeed, type ChangeListener } from './change-feed.js';
import { errorReason } from './errors.js';

/** What a listening link reports to its feed. */
export interface LinkEvents {
  /** A message on our channel, as text. */
  message(text: string): void;
  /** The link broke; may be called more than once per link. */
  lost(err: unknown): void;
}

/** One open listening link. */
export interface Link {
  close(): void;
}

export interface Transport {
  name: 'postgres' | 'redis';
  /** Where it goes, without a password, for the log. */
  where: string;
  /** Opens a link that listens on the channel; resolves once it listens. */
  listen(events: LinkEvents): Promise<Link>;
  /** Sends one message on the channel. */
  send(text: string): Promise<void>;
  /** Closes what send opened. */
  close(): Promise<void>;
}

/** What a remote transport's feed is made with. */
export interface FeedOptions {
  logger: Logger;
  retry: BackoffOptions;
  connectTimeoutMs: number;
  reason: string;
}

/** Messages that are not ours, and failed publishes, are logged at most this often. */
const LOG_EVERY_MS = 10_000;

export class RemoteFeed implements ChangeFeed {
  readonly transport: 'postgres' | 'redis';
  private readonly listeners: Listeners;
  private readonly backoff: Backoff;
  private readonly publishes: PublishQueue;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  private link: Link | undefined;
  /** Bumped per link attempt: events of an older link are ignored. */
  private generation = 0;
  private started = false;
  private up = false;
  /** Said "lost" and not yet "restored": the next success says it. */
  private down = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly wire: Transport,
    private readonly logger: Logger,
    retry: BackoffOptions,
    readonly reason: string,
  ) {
    this.transport = wire.name;
    this.listeners = new Listeners(logger);
    this.backoff = new Backoff(retry);
    this.logLimited = rateLimited(logger, LOG_EVERY_MS);
    this.publishes = new PublishQueue(
      (version) => wire.send(changeMessage(version)),
      (err) => this.logLimited('warn', 'notify_publish_failed', { transport: this.transport, to: wire.where, error: errorReason(err), fallback: 'the next poll' }),
    );
  }

  get live(): boolean {
    return this.up;
  }

  publish(version: number): void {
    if (!this.closed) this.publishes.offer(version);
  }

  subscribe(listener: ChangeListener): () => void {
    const unsubscribe = this.listeners.add(listener);
    if (!this.started && !this.closed) {
      this.started = true;
      void this.connect();
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.link?.close();
    this.link = undefined;
    this.up = false;
    await this.publishes.drained();
    await this.wire.close();
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.closed;
    let link: Link;
    try {
      link = await this.wire.listen({
        message: (text) => {
          if (current()) this.onMessage(text);
        },
        lost: (err) => {
          if (current()) this.onLost(err);
        },
      });
    } catch (err) {
      if (current()) this.onLost(err);
      return;
    }
    if (!current()) {
      link.close();
      return;
    }
    this.link = link;
    this.up = true;
    this.backoff.reset();
    if (this.down) {
      this.down = false;
      this.logger.info('notify_restored', { transport: this.transport, from: this.wire.where });
      this.listeners.deliver(undefined);
    } else {
      this.logger.info('notify_listening', { transport: this.transport, from: this.wire.where });
    }
  }

  private onMessage(text: string): void {
    const version = parseChangeMessage(text);
    if (version === undefined) {
      this.logLimited('warn', 'notify_message_ignored', { transport: this.transport, reason: 'not a lars change message', bytes: text.length, start: text.slice(0, 32) });
      return;
    }
    this.listeners.deliver(version);
  }

  private onLost(err: unknown): void {
    this.generation += 1;
    this.link?.close();
    this.link = undefined;
    this.up = false;
    const retryMs = this.backoff.next();
    if (!this.down) {
      this.down = true;
      this.logger.warn('notify_lost', { transport: this.transport, from: this.wire.where, error: errorReason(err), fallback: 'poll every poll_interval_ms until it is back' });
    }
    this.retryTimer = setTimeout(() => void this.connect(), retryMs);
  }
}
