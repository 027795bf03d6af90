/**
 * The change feed: how an edit made through our route administration wakes
 * every dns at once instead of at its next poll (docs/dns.md,
 * "Notification"). One interface, one implementation per transport
 * (in-process, PostgreSQL LISTEN/NOTIFY, Redis pub/sub), chosen by
 * chooseChangeFeed from the configuration.
 *
 * A notification only wakes the sync and carries the new route version as a
 * hint: the store stays the source of truth, so a lost, late or duplicate
 * message changes nothing but when the dns looks.
 */
import type { BackoffOptions } from '../reactor/backoff.js';
import type { Logger } from '../reactor/log.js';
import { NotifySettingError } from './errors.js';
import type { StoreKind } from './url.js';

export type FeedTransport = 'none' | 'in-process' | 'postgres' | 'redis';

/** Called per notification with its version; undefined: something may have been missed (a link came back), look anyway. */
export type ChangeListener = (version: number | undefined) => void;

export interface ChangeFeed {
  readonly transport: FeedTransport;
  /** Why this transport (chooseChangeFeed): what the service logs once it runs. */
  readonly reason: string;
  /** True while notifications can arrive; false with no transport, or while its link is down (the poll carries edits then). */
  readonly live: boolean;
  /** Tells every subscriber the transport reaches that the route version is now `version`. Never throws: a lost message is the poll's to catch. */
  publish(version: number): void;
  /** Returns the unsubscribe. A remote transport connects on the first subscriber, so a process that only publishes holds no link. */
  subscribe(listener: ChangeListener): () => void;
  /** Sends what is still being published, then closes every link. */
  close(): Promise<void>;
}

/** How a store's feed is chosen: the setting (--notify, LARS_NOTIFY, [notify] url) and what runs in this process. */
export interface NotifyOptions {
  /** Empty or undefined: the best the deployment offers; "off", "postgres", "in-process" or redis://HOST:PORT. */
  setting?: string;
  /** Every service runs in this process (lars up): an in-process feed reaches them all. */
  oneProcess?: boolean;
  logger: Logger;
  /** Reconnect backoff of a remote transport's link (random: tests pin the jitter). */
  retry?: BackoffOptions;
}

export const DEFAULT_FEED_RETRY = { initialMs: 100, maxMs: 10_000 };

/** A link's connect attempt gives up after this: a one-shot command must not hang on a Redis that is not there. */
export const FEED_CONNECT_TIMEOUT_MS = 3000;

export type FeedChoice = { transport: Exclude<FeedTransport, 'redis'>; reason: string } | { transport: 'redis'; url: string; reason: string };

/**
 * The one place the transport is picked; the reason is what the log says.
 * An explicit setting wins; otherwise the store's own engine when it can
 * notify, then in-process when everything runs here, else none (poll only).
 */
export function chooseChangeFeed(setting: string | undefined, storeKind: StoreKind, oneProcess: boolean): FeedChoice {
  const text = (setting ?? '').trim();
  if (/^rediss?:\/\//i.test(text)) return { transport: 'redis', url: text, reason: 'notify names a Redis server' };
  switch (text) {
    case 'off':
      return { transport: 'none', reason: 'notify=off: edits reach dns at its next poll' };
    case 'in-process':
      return { transport: 'in-process', reason: oneProcess ? 'notify=in-process' : 'notify=in-process: only services in this process hear of its edits' };
    case 'postgres':
      if (storeKind !== 'postgres') throw new NotifySettingError(`notify=postgres needs a PostgreSQL store, not ${storeKind}`);
      return { transport: 'postgres', reason: 'notify=postgres' };
    case '':
    case 'auto':
      if (storeKind === 'postgres') return { transport: 'postgres', reason: 'the store is PostgreSQL: LISTEN/NOTIFY on its own engine' };
      if (oneProcess) return { transport: 'in-process', reason: 'every service runs in this process' };
      return { transport: 'none', reason: `a ${storeKind} store cannot notify and no Redis is configured (--notify redis://HOST:PORT): edits reach dns at its next poll` };
    default:
      throw new NotifySettingError(`unknown notify setting ${JSON.stringify(text)}: use auto, off, postgres, in-process or redis://HOST:PORT`);
  }
}

const MESSAGE = /^lars route_version=(\d{1,15})$/;

/** What goes on the channel: ours, so anything else on it is recognisably not. */
export function changeMessage(version: number): string {
  return `lars route_version=${version}`;
}

/** The version a message carries, or undefined for a message that is not ours. */
export function parseChangeMessage(text: string): number | undefined {
  const match = MESSAGE.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The subscribers of one feed; each gets every message, and one that throws does not stop the rest. */
export class Listeners {
  private readonly all = new Set<ChangeListener>();

  constructor(private readonly logger: Logger) {}

  add(listener: ChangeListener): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }

  deliver(version: number | undefined): void {
    for (const listener of this.all) {
      try {
        listener(version);
      } catch (err) {
        this.logger.error('notify_listener_failed', { error: err });
      }
    }
  }
}

/**
 * Publishes one at a time, in order; versions offered while one is on its
 * way go out as one message with the newest (a burst of edits is one
 * notification, and the receiving sync coalesces what still arrives).
 */
export class PublishQueue {
  private queued: number | undefined;
  private sending: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(
    private readonly send: (version: number) => Promise<void>,
    private readonly failed: (err: unknown) => void,
  ) {}

  offer(version: number): void {
    this.queued = Math.max(this.queued ?? version, version);
    if (!this.busy) this.sending = this.run();
  }

  /** Resolves once everything offered so far was sent (or failed). */
  drained(): Promise<void> {
    return this.sending;
  }

  private async run(): Promise<void> {
    this.busy = true;
    while (this.queued !== undefined) {
      const version = this.queued;
      this.queued = undefined;
      await this.send(version).catch(this.failed);
    }
    this.busy = false;
  }
}

/** No transport: edits reach dns at its next poll. */
export function noFeed(reason: string): ChangeFeed {
  return { transport: 'none', reason, live: false, publish: () => undefined, subscribe: () => () => undefined, close: async () => undefined };
}

/** Every service shares this process's store (lars up): a publish reaches the subscribers on the next tick. */
export class InProcessFeed implements ChangeFeed {
  readonly transport = 'in-process';
  readonly live = true;
  private readonly listeners: Listeners;

  constructor(
    logger: Logger,
    readonly reason: string,
  ) {
    this.listeners = new Listeners(logger);
  }

  publish(version: number): void {
    // Never inside the editor's call: a subscriber's work must not run in the edit's stack.
    queueMicrotask(() => this.listeners.deliver(version));
  }

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {}
}
