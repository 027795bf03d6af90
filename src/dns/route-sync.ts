/**
 * Keeps the dns service's RouteSnapshot in step with the store.
 *
 * Every poll reads the version row. When it moved, the change-log rows after
 * the version this instance last applied name the routes that changed; only
 * those are reloaded. If the log has a hole (rows pruned, a hand edit), or on
 * the slower full-reload interval, every route is reloaded and the snapshots
 * are compared instead. Change rows are only read, never consumed, so any
 * number of dns instances can share one store.
 *
 * When the store is away the last snapshot keeps serving; polls back off and
 * the service catches up on the first poll that succeeds.
 */
import { Backoff } from '../reactor/backoff.js';
import { rateLimited, type Logger } from '../reactor/log.js';
import { routeKeyOf, type RouteId, type RouteKey } from '../protocol/route-key.js';
import { coversVersions, type LoadedRoute, type LoadedRoutes, type RouteChange } from '../store/index.js';
import { RouteSnapshot } from './route-snapshot.js';

/** What the sync needs from the store (RouteReader provides it). */
export interface RouteSource {
  readVersion(): Promise<number>;
  loadRoutes(): Promise<LoadedRoutes>;
  loadRoutesOf(routes: readonly RouteId[]): Promise<Map<RouteKey, LoadedRoute>>;
  changesSince(version: number): Promise<RouteChange[]>;
}

export interface RouteSyncOptions {
  source: RouteSource;
  pollIntervalMs: number;
  fullReloadIntervalMs: number;
  /** Backoff ceiling while the store is unreachable. */
  maxRetryMs: number;
  logger: Logger;
  /** Called once, after the first load (which may hold no route at all). */
  onLoaded(snapshot: RouteSnapshot): void;
  /** Called after each later swap that changed routes, with those routes. */
  onChange(snapshot: RouteSnapshot, changed: readonly RouteKey[]): void;
  now?: () => number;
}

export type SyncHealth = { ok: boolean; version: number; routes: number; lastSyncAt: number | null; failures: number };

export class RouteSync {
  private current = RouteSnapshot.empty();
  private lastFullLoad = 0;
  private lastSyncAt: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly backoff: Backoff;
  private readonly logThrottled: ReturnType<typeof rateLimited>;
  private readonly now: () => number;

  constructor(private readonly options: RouteSyncOptions) {
    this.now = options.now ?? Date.now;
    this.backoff = new Backoff({ initialMs: options.pollIntervalMs, maxMs: Math.max(options.pollIntervalMs, options.maxRetryMs) });
    this.logThrottled = rateLimited(options.logger, 10_000, this.now);
  }

  get snapshot(): RouteSnapshot {
    return this.current;
  }

  /** True once a first load succeeded: before that, answers would be wrongly empty. */
  get loaded(): boolean {
    return this.current.version >= 0;
  }

  health(): SyncHealth {
    return {
      ok: this.loaded && this.backoff.attempts === 0,
      version: this.current.version,
      routes: this.current.size,
      lastSyncAt: this.lastSyncAt,
      failures: this.backoff.attempts,
    };
  }

  /** Starts polling; the first poll (a full load) runs at once. */
  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One poll, exposed for tests and for "sync now" after a local edit. */
  async poll(): Promise<void> {
    const wasFailing = this.backoff.attempts > 0;
    try {
      await this.sync();
      this.lastSyncAt = this.now();
      if (wasFailing) this.options.logger.info('store_recovered', { version: this.current.version, failures: this.backoff.attempts });
      this.backoff.reset();
    } catch (err) {
      const retryMs = this.backoff.next();
      this.logThrottled('warn', 'store_unavailable', {
        error: err,
        serving: this.loaded ? `snapshot version ${this.current.version}` : 'nothing yet',
        retryMs,
      });
      throw err;
    }
  }

  /**
   * Polls are spaced from one poll's START to the next, so an edit waits at
   * most one interval plus one poll's work, not plus two.
   */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.now();
      const after = (intervalMs: number) => this.schedule(Math.max(0, intervalMs - (this.now() - started)));
      this.running = this.poll().then(
        () => after(this.options.pollIntervalMs),
        () => after(Math.max(this.options.pollIntervalMs, this.backoff.ceiling())),
      );
    }, delayMs);
  }

  private async sync(): Promise<void> {
    const fullDue = !this.loaded || this.now() - this.lastFullLoad >= this.options.fullReloadIntervalMs;
    if (fullDue) return this.fullReload();
    const version = await this.options.source.readVersion();
    if (version === this.current.version) return;
    const applied = this.current.version;
    const changes = await this.options.source.changesSince(applied);
    const newest = changes.reduce((max, c) => Math.max(max, c.version), version);
    if (version < applied || !coversVersions(changes, applied, newest)) {
      this.options.logger.info('change_log_incomplete', { applied, version, rows: changes.length, action: 'full reload' });
      return this.fullReload();
    }
    const keys = new Map<RouteKey, RouteId>(changes.map((c) => [routeKeyOf(c), { modid: c.modid, cmdid: c.cmdid }]));
    const loaded = await this.options.source.loadRoutesOf([...keys.values()]);
    // A changed route the reader did not return has no hosts now.
    const next = this.current.withRoutes(newest, new Map([...keys.keys()].map((key) => [key, loaded.get(key)])));
    this.swap(next, this.current.changedAmong(next, keys.keys()));
  }

  private async fullReload(): Promise<void> {
    const started = this.now();
    const loaded = await this.options.source.loadRoutes();
    const next = RouteSnapshot.fromRoutes(loaded.version, loaded.routes);
    const changed = this.loaded ? this.current.changedKeys(next) : [...loaded.routes.keys()];
    this.lastFullLoad = this.now();
    if (!this.loaded || changed.length > 0 || next.version !== this.current.version) {
      this.options.logger.info('routes_loaded', { version: next.version, routes: next.size, changed: changed.length, ms: this.now() - started });
    }
    this.swap(next, changed);
  }

  /** The first load always reports, even with nothing in it: requests may be waiting for it. */
  private swap(next: RouteSnapshot, changed: readonly RouteKey[]): void {
    const first = !this.loaded;
    this.current = next;
    if (first) this.options.onLoaded(next);
    else if (changed.length > 0) this.options.onChange(next, changed);
  }
}
