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
 * Registered instances' loads (docs/registry.md) are not route changes: each
 * poll also reads the registry's counter, and when it moved, the rows
 * written since; those only update scores in the snapshot, reported through
 * onLoads so the service can push them at its own pace.
 *
 * A notification of an edit (wake) polls at once instead of at the next
 * interval; the interval's polls stay, for edits nobody announced.
 *
 * When the store is away the last snapshot keeps serving; polls back off and
 * the service catches up on the first poll that succeeds.
 */
import { Backoff } from '../reactor/backoff.js';
import { rateLimited, type Logger } from '../reactor/log.js';
import { routeKeyOf, type RouteId, type RouteKey } from '../protocol/route-key.js';
import { coversVersions, type InstanceLoadRow, type LoadedRoute, type LoadedRoutes, type RouteChange } from '../store/index.js';
import { RouteSnapshot } from './route-snapshot.js';

/** What the sync needs from the store (RouteReader provides it). */
export interface RouteSource {
  readVersion(): Promise<number>;
  loadRoutes(): Promise<LoadedRoutes>;
  loadRoutesOf(routes: readonly RouteId[]): Promise<Map<RouteKey, LoadedRoute>>;
  changesSince(version: number): Promise<RouteChange[]>;
  readRegistryVersion(): Promise<number>;
  loadsSince(revision: number): Promise<InstanceLoadRow[]>;
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
  /** Called after a swap that changed only registered instances' loads, with those routes. */
  onLoads(snapshot: RouteSnapshot, changed: readonly RouteKey[]): void;
  now?: () => number;
}

export type SyncHealth = { ok: boolean; version: number; routes: number; lastSyncAt: number | null; failures: number };

export class RouteSync {
  private current = RouteSnapshot.empty();
  /** The registry_version whose load writes the snapshot includes. */
  private registryVersion = -1;
  private lastFullLoad = 0;
  private lastSyncAt: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The poll queued to run next, if any (poll()). */
  private waiting: Promise<void> | undefined;
  /** The end of the last poll queued. */
  private last: Promise<void> = Promise.resolve();
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

  /**
   * One poll: for tests, and after a local write (the registry's). Polls run
   * one at a time, in order; calls while one waits to start share it.
   */
  poll(): Promise<void> {
    if (this.waiting) return this.waiting;
    const run = this.last.then(() => {
      this.waiting = undefined;
      return this.pollOnce();
    });
    this.waiting = run;
    this.last = run.catch(() => undefined);
    return run;
  }

  /**
   * A notification (docs/dns.md, "Notification"): polls now, unless the
   * snapshot already holds `version`, or the store is failing (the backoff's
   * retries are paced; a wake must not add to them). A burst shares one poll
   * (poll()); the timer's polls go on as before, so nothing depends on the
   * notification.
   */
  wake(version?: number): void {
    if (this.stopped || this.backoff.attempts > 0 || (version !== undefined && this.loaded && version <= this.current.version)) return;
    this.poll().catch(() => undefined);
  }

  private async pollOnce(): Promise<void> {
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
    await this.syncRoutes();
    await this.syncLoads();
  }

  private async syncRoutes(): Promise<void> {
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

  /** Rows written after the counter was read are read again next time: applying a score twice changes nothing. */
  private async syncLoads(): Promise<void> {
    const revision = await this.options.source.readRegistryVersion();
    if (revision === this.registryVersion) return;
    const rows = await this.options.source.loadsSince(this.registryVersion);
    this.registryVersion = revision;
    const { snapshot, changed } = this.current.withLoads(rows);
    this.current = snapshot;
    if (changed.length > 0) this.options.onLoads(snapshot, changed);
  }

  private async fullReload(): Promise<void> {
    const started = this.now();
    // Read first, like the route version: the loads read after are at least this new.
    const revision = await this.options.source.readRegistryVersion();
    const loaded = await this.options.source.loadRoutes();
    this.registryVersion = revision;
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
