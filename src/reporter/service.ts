/**
 * The reporter service: accepts ReportStatusRequest frames (msgid 3) from
 * agents over TCP, queues their host results in a bounded queue, and drains
 * it in batches into the store with N concurrent writers. Used by
 * `lars reporter` and `lars up` alike.
 *
 * - Intake never waits for the store: a frame costs a decode and a push.
 * - The queue is bounded in host results; when full, the oldest batch goes.
 * - Fairness (docs/reporter.md): a report of more than max_results_per_report
 *   results is refused whole, so is one past its address's rate, and one
 *   connection holds at most its share of the queue.
 * - A failed write is retried with backoff (the batch stays at the queue's
 *   head). When the store refuses rows as bad data, the batch is written in
 *   halves down to single rows, so only the refused rows are dropped (counted,
 *   logged) and the rest is written.
 * - A report our agent numbered (field 6) is acknowledged (ReportAck) once
 *   all its rows are written, so the agent can send it again after a lost
 *   connection until then (docs/reporter.md, "Acknowledgements").
 * - close() stops intake, then writes what is queued (up to flush_timeout_ms).
 */
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Health } from '../reactor/admin-http.js';
import { Backoff } from '../reactor/backoff.js';
import { configFrom, tcpServerLimits, type ConfigOf } from '../reactor/config.js';
import { PeerQuota } from '../reactor/peer-quota.js';
import { formatPeer, metricName } from '../reactor/endpoint.js';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { MetricsRegistry, type Counter, type Histogram } from '../reactor/metrics.js';
import { TcpServer, type TcpConnection } from '../reactor/tcp-server.js';
import { MsgId } from '../protocol/msgid.js';
import type { DecodedReportStatusRequest, ReportStatusRequest } from '../protocol/messages.js';
import { errorReason } from '../store/errors.js';
import { isDataError, type StatusRow } from '../store/status.js';
import type { Store } from '../store/store.js';
import { DEFAULT_REPORTER_PORT, REPORTER_CONFIG_SECTIONS, peerMaxResults, type ReporterConfig, type ReporterConfigInput } from './config.js';
import { BatchQueue, type Batch } from './queue.js';
import { toStatusRows } from './report.js';
import { openSink, type StatusSink } from './sink.js';

/** How often repeated warnings (overflow, failing store, bad input) may be logged. */
const WARN_INTERVAL_MS = 10_000;

/** [reporter] and [reactor] as loadConfig gives them, or some of their values (the rest take the defaults). */
export interface StartReporterOptions extends ReporterConfigInput {
  store: Store;
  /** Default 0.0.0.0. */
  host?: string;
  /** Default 7779; 0 picks a free port (see Reporter.address). */
  port?: number;
  /** False: take no port; connections arrive through adopt() (dispatcher workers). Default true. */
  listen?: boolean;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Unix milliseconds; injected by tests. */
  clock?: () => number;
}

export interface ReporterStats {
  connections: number;
  /** ReportStatusRequest frames received. */
  reports: number;
  /** Host results accepted into the queue. */
  resultsAccepted: number;
  /** Host results skipped as invalid (e.g. a port out of range). */
  resultsInvalid: number;
  resultsWritten: number;
  /** Numbered reports (our agents') acknowledged once stored. */
  reportsAcknowledged: number;
  /**
   * Lost to a full queue, a shutdown that could not flush, rows the store
   * refused; refused at intake as oversize, past the peer's rate, or over the
   * connection's share of the queue.
   */
  resultsDropped: { overflow: number; shutdown: number; rejected: number; oversize: number; peerRate: number; peerShare: number };
  batchesWritten: number;
  batchesDropped: number;
  writeFailures: number;
  /** Held now: waiting plus being written. */
  queuedResults: number;
  inFlightResults: number;
  /** False from a failed write until the next successful one. */
  storeUp: boolean;
  /** Unix ms of the last successful write. */
  lastWriteAt: number | null;
  seriesPruned: number;
}

export interface Reporter {
  /** The bound address; undefined when started with listen: false. */
  readonly address: AddressInfo | undefined;
  /** Serves a connection accepted elsewhere (a dispatcher hand-over). */
  adopt(socket: Socket): void;
  /** Writers actually running (db_thread_cnt, or 1 for SQLite). */
  readonly writers: number;
  stats(): ReporterStats;
  /** For the admin /healthz: ok while the store takes writes. */
  health(): Health;
  /** Stops intake, writes what is queued (bounded by flush_timeout_ms), stops the writers. Idempotent. */
  close(): Promise<void>;
}

interface Metrics {
  reports: Counter;
  accepted: Counter;
  invalid: Counter;
  skewed: Counter;
  written: Counter;
  dropped: Counter;
  batchesWritten: Counter;
  batchesDropped: Counter;
  failures: Counter;
  pruned: Counter;
  acknowledged: Counter;
  writeSeconds: Histogram;
}

/** A numbered report waiting for its rows to be written before it is acknowledged. */
interface Receipt {
  conn: TcpConnection;
  seq: number;
  /** Rows not yet written; a report not queued whole never reaches 0, and is never acknowledged. */
  unwritten: number;
}

function createMetrics(registry: MetricsRegistry, service: ReporterService): Metrics {
  const name = (metric: string) => metricName('reporter', metric);
  registry.gauge(name('queue_results'), 'host results held: waiting and being written', () => service.queuedResults);
  registry.gauge(name('store_up'), '1 while the store takes writes, 0 from a failed write until the next success', () => (service.storeUp ? 1 : 0));
  return {
    reports: registry.counter(name('reports_total'), 'ReportStatusRequest frames received'),
    accepted: registry.counter(name('results_total'), 'host results accepted into the queue'),
    invalid: registry.counter(name('invalid_results_total'), 'host results skipped as invalid'),
    skewed: registry.counter(name('skewed_reports_total'), 'reports stamped too far in the future, given the receive time'),
    written: registry.counter(name('results_written_total'), 'host results written to the store'),
    dropped: registry.counter(name('results_dropped_total'), 'host results lost, by reason: overflow, shutdown, rejected, oversize, peer_rate, peer_share'),
    batchesWritten: registry.counter(name('batches_written_total'), 'batches written, one transaction each'),
    batchesDropped: registry.counter(name('batches_dropped_total'), 'batches dropped because the queue was full'),
    failures: registry.counter(name('write_failures_total'), 'failed batch writes'),
    pruned: registry.counter(name('series_pruned_total'), 'call_series rows deleted for age'),
    acknowledged: registry.counter(name('reports_acknowledged_total'), 'numbered reports acknowledged (ReportAck) once stored'),
    writeSeconds: registry.histogram(name('batch_write_seconds'), 'time to write one batch', [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
  };
}

/** Rows the store refused as bad data, and why (the first refusal). */
interface Rejected {
  rows: number;
  error?: unknown;
}

class ReporterService implements Reporter {
  readonly writers: number;
  storeUp = true;
  private readonly log: Logger;
  private readonly warn: ReturnType<typeof rateLimited>;
  private readonly metrics: Metrics;
  private readonly clock: () => number;
  private readonly queue: BatchQueue<StatusRow, Receipt>;
  private readonly peerQuota: PeerQuota;
  private readonly backoff: Backoff;
  private readonly server: TcpServer;
  private readonly idleWriters: (() => void)[] = [];
  private readonly drainedWaiters: (() => void)[] = [];
  private writerLoops: Promise<void>[] = [];
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = 0;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<void> | undefined;
  private downSince = 0;
  private lastWriteAt: number | null = null;
  private stopped = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: StartReporterOptions & ConfigOf<typeof REPORTER_CONFIG_SECTIONS>,
    private readonly config: ReporterConfig,
    private readonly sink: StatusSink,
  ) {
    this.log = options.logger ?? createLogger('reporter');
    this.warn = rateLimited(this.log, WARN_INTERVAL_MS);
    this.clock = options.clock ?? Date.now;
    const registry = options.metrics ?? new MetricsRegistry();
    this.metrics = createMetrics(registry, this);
    this.writers = Math.min(this.config.db_thread_cnt, sink.maxWriters);
    this.peerQuota = new PeerQuota(this.config.peer_results_per_second);
    this.queue = new BatchQueue({
      maxItems: this.config.queue_max_results,
      batchMax: this.config.batch_max_results,
      delayMs: this.config.batch_delay_ms,
      ownerMaxItems: peerMaxResults(this.config),
    });
    this.backoff = new Backoff({ initialMs: this.config.retry_initial_ms, maxMs: this.config.retry_max_ms });
    this.server = new TcpServer({
      name: 'reporter',
      host: options.host ?? '0.0.0.0',
      port: options.port ?? DEFAULT_REPORTER_PORT,
      ...tcpServerLimits(options.reactor),
      logger: this.log.child('tcp'),
      metrics: registry,
    });
    this.server.handle(MsgId.ReportStatusRequest, (conn, report) => this.accept(conn, report));
  }

  get address(): AddressInfo | undefined {
    return this.options.listen === false ? undefined : this.server.address;
  }

  adopt(socket: Socket): void {
    this.server.adopt(socket);
  }

  get queuedResults(): number {
    return this.queue.size;
  }

  async start(): Promise<void> {
    const address = this.options.listen === false ? undefined : await this.server.listen();
    if (this.writers < this.config.db_thread_cnt) {
      this.log.info('writers_clamped', { requested: this.config.db_thread_cnt, writers: this.writers, reason: 'sqlite has a single writer' });
    }
    this.writerLoops = Array.from({ length: this.writers }, () => this.runWriter());
    this.pruneTimer = setInterval(() => this.prune(), this.config.prune_interval_s * 1000);
    this.prune();
    this.log.info('listening', {
      addr: address ? formatPeer(address.address, address.port) : 'dispatcher',
      store: this.options.store.describe(),
      sink: this.sink.name,
      writers: this.writers,
      queueMax: this.config.queue_max_results,
      batchMax: this.config.batch_max_results,
      peerMax: peerMaxResults(this.config),
      reportMax: this.config.max_results_per_report,
    });
  }

  stats(): ReporterStats {
    const m = this.metrics;
    return {
      connections: this.server.connectionCount,
      reports: m.reports.get(),
      resultsAccepted: m.accepted.get(),
      resultsInvalid: m.invalid.get(),
      resultsWritten: m.written.get(),
      reportsAcknowledged: m.acknowledged.get(),
      resultsDropped: {
        overflow: m.dropped.get({ reason: 'overflow' }),
        shutdown: m.dropped.get({ reason: 'shutdown' }),
        rejected: m.dropped.get({ reason: 'rejected' }),
        oversize: m.dropped.get({ reason: 'oversize' }),
        peerRate: m.dropped.get({ reason: 'peer_rate' }),
        peerShare: m.dropped.get({ reason: 'peer_share' }),
      },
      batchesWritten: m.batchesWritten.get(),
      batchesDropped: m.batchesDropped.get(),
      writeFailures: m.failures.get(),
      queuedResults: this.queue.size,
      inFlightResults: this.queue.inFlight,
      storeUp: this.storeUp,
      lastWriteAt: this.lastWriteAt,
      seriesPruned: m.pruned.get(),
    };
  }

  health(): Health {
    return {
      ok: this.storeUp && this.closing === undefined,
      storeUp: this.storeUp,
      queuedResults: this.queue.size,
      queueMax: this.config.queue_max_results,
      connections: this.server.connectionCount,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private accept(conn: TcpConnection, report: DecodedReportStatusRequest): void {
    const now = this.clock();
    const peer = conn.remote;
    this.metrics.reports.inc();
    if (!this.admit(conn, report, now)) return;
    const { rows, invalid, skewed } = toStatusRows(report, Math.floor(now / 1000), this.config.max_clock_skew_s);
    if (invalid.length > 0) {
      this.metrics.invalid.inc(invalid.length);
      this.warn('warn', 'invalid_results', { peer, modid: report.modid, cmdid: report.cmdid, skipped: invalid.length, reason: invalid[0] });
    }
    if (skewed) {
      this.metrics.skewed.inc();
      this.warn('warn', 'report_from_the_future', { peer, ts: report.ts, now: Math.floor(now / 1000), using: 'receive time' });
    }
    if (rows.length === 0) {
      // Nothing to store is stored at once.
      if (report.seq !== 0) this.sendAcks(new Map([[conn, [report.seq]]]));
      return;
    }
    const receipt = report.seq !== 0 ? { conn, seq: report.seq, unwritten: rows.length } : undefined;
    const { droppedItems, droppedBatches, refusedItems } = this.queue.push(rows, now, peer, receipt);
    this.metrics.accepted.inc(rows.length - refusedItems);
    if (refusedItems > 0) {
      this.metrics.dropped.inc(refusedItems, { reason: 'peer_share' });
      this.warn('warn', 'peer_share_full_refused', {
        peer,
        results: refusedItems,
        held: this.queue.heldBy(peer),
        peerMax: peerMaxResults(this.config),
      });
    }
    if (droppedItems > 0) {
      this.metrics.dropped.inc(droppedItems, { reason: 'overflow' });
      this.metrics.batchesDropped.inc(droppedBatches);
      this.warn('warn', 'queue_full_dropped_oldest', {
        results: droppedItems,
        batches: droppedBatches,
        droppedTotal: this.metrics.dropped.get({ reason: 'overflow' }),
        queueMax: this.config.queue_max_results,
        storeUp: this.storeUp,
      });
    }
    this.schedule();
  }

  /**
   * A giant report is refused whole, and so is one past its peer's rate
   * (docs/reporter.md, "Fairness"): counted as dropped, logged.
   */
  private admit(conn: TcpConnection, report: ReportStatusRequest, now: number): boolean {
    const results = report.results.length;
    const { max_results_per_report: maxResults, peer_results_per_second: perSecond } = this.config;
    const refusal =
      results > maxResults
        ? { reason: 'oversize', detail: `${results} results, more than max_results_per_report ${maxResults}` }
        : !this.peerQuota.take(conn.remoteAddress, now, results)
          ? { reason: 'peer_rate', detail: `more than peer_results_per_second ${perSecond} from this address` }
          : undefined;
    if (!refusal) return true;
    this.metrics.dropped.inc(results, { reason: refusal.reason });
    this.warn('warn', 'report_refused', { peer: conn.remote, modid: report.modid, cmdid: report.cmdid, results, reason: refusal.detail });
    return false;
  }

  /** Wakes an idle writer when the oldest batch is ready, now or by timer. */
  private schedule(): void {
    if (this.idleWriters.length === 0) return;
    const readyAt = this.queue.readyAt();
    if (readyAt === undefined) return;
    const delay = readyAt - this.clock();
    if (delay <= 0) {
      this.idleWriters.shift()!();
      return;
    }
    if (this.wakeTimer !== undefined && this.wakeAt <= readyAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = readyAt;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.schedule();
    }, delay);
  }

  private async runWriter(): Promise<void> {
    for (;;) {
      const batch = this.queue.take(this.clock());
      if (batch === undefined) {
        if (this.stopped) return;
        await new Promise<void>((resolve) => {
          this.idleWriters.push(resolve);
          this.schedule();
        });
        continue;
      }
      // More may be ready: hand them to the next idle writer.
      this.schedule();
      await this.write(batch);
      this.notifyIfDrained();
    }
  }

  private async write(batch: Batch<StatusRow, Receipt>): Promise<void> {
    const started = performance.now();
    let rejected: Rejected;
    try {
      rejected = await this.writeRows(batch.items);
    } catch (err) {
      this.failed(batch, err);
      return;
    }
    this.queue.done(batch);
    // Rows the store refused are given up as well: sending them again would not help.
    this.acknowledge(batch);
    this.metrics.writeSeconds.observe((performance.now() - started) / 1000);
    this.metrics.written.inc(batch.items.length - rejected.rows);
    this.metrics.batchesWritten.inc();
    if (rejected.rows > 0) {
      this.metrics.dropped.inc(rejected.rows, { reason: 'rejected' });
      this.log.error('results_rejected', { results: rejected.rows, batch: batch.items.length, error: errorReason(rejected.error) });
    }
    this.lastWriteAt = this.clock();
    this.backoff.reset();
    if (!this.storeUp) {
      this.storeUp = true;
      this.log.info('store_recovered', { downMs: this.clock() - this.downSince, queued: this.queue.size });
    }
  }

  /** Acknowledges the reports whose last rows this batch wrote, one ReportAck per connection. */
  private acknowledge(batch: Batch<StatusRow, Receipt>): void {
    if (batch.receipts.size === 0) return;
    const stored = new Map<TcpConnection, number[]>();
    for (const [receipt, count] of batch.receipts) {
      receipt.unwritten -= count;
      if (receipt.unwritten > 0) continue;
      const seqs = stored.get(receipt.conn);
      if (seqs) seqs.push(receipt.seq);
      else stored.set(receipt.conn, [receipt.seq]);
    }
    this.sendAcks(stored);
  }

  private sendAcks(stored: Map<TcpConnection, number[]>): void {
    for (const [conn, seq] of stored) {
      // A closed connection's agent sends these again; the store keeps a window once.
      if (conn.send(MsgId.ReportAck, { seq })) this.metrics.acknowledged.inc(seq.length);
    }
  }

  /**
   * Writes the rows; when the store refuses them as bad data, writes each half
   * again, down to single rows, and returns the rows it refused (k bad rows
   * in n cost about 2k log n writes). Any other error ends it: the caller
   * retries the whole batch, which is safe because writes are idempotent.
   */
  private async writeRows(rows: readonly StatusRow[]): Promise<Rejected> {
    try {
      await this.sink.write(rows);
      return { rows: 0 };
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (rows.length === 1) return { rows: 1, error: err };
      const half = Math.ceil(rows.length / 2);
      const first = await this.writeRows(rows.slice(0, half));
      const second = await this.writeRows(rows.slice(half));
      return { rows: first.rows + second.rows, error: first.error ?? second.error };
    }
  }

  private failed(batch: Batch<StatusRow, Receipt>, err: unknown): void {
    const count = batch.items.length;
    this.metrics.failures.inc();
    if (this.stopped) {
      this.queue.done(batch);
      this.metrics.dropped.inc(count, { reason: 'shutdown' });
      return;
    }
    const delayMs = this.backoff.next();
    this.queue.retry(batch, this.clock() + delayMs);
    if (this.storeUp) {
      this.storeUp = false;
      this.downSince = this.clock();
      this.log.warn('store_unavailable', { error: errorReason(err), retryInMs: delayMs, queued: this.queue.size });
    } else {
      this.warn('warn', 'store_still_unavailable', { error: errorReason(err), attempts: this.backoff.attempts, queued: this.queue.size });
    }
    this.schedule();
  }

  private prune(): void {
    if (this.pruning !== undefined) return;
    const cutoff = Math.floor(this.clock() / 1000) - this.config.series_retention_hours * 3600;
    this.pruning = this.sink
      .prune(cutoff)
      .then(
        (rows) => {
          this.metrics.pruned.inc(rows);
          if (rows > 0) this.log.info('series_pruned', { rows, before: cutoff });
        },
        (err: unknown) => this.warn('warn', 'prune_failed', { error: errorReason(err) }),
      )
      .finally(() => {
        this.pruning = undefined;
      });
  }

  private notifyIfDrained(): void {
    if (this.queue.size > 0) return;
    for (const resolve of this.drainedWaiters.splice(0)) resolve();
  }

  /** Resolves true once nothing is queued or in flight, false after timeoutMs. */
  private drained(timeoutMs: number): Promise<boolean> {
    if (this.queue.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.drainedWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.server.close();
    this.queue.flush();
    this.schedule();
    const flushed = await this.drained(this.config.flush_timeout_ms);
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    const lost = this.queue.clear();
    if (!flushed) {
      this.metrics.dropped.inc(lost, { reason: 'shutdown' });
      this.log.error('flush_incomplete', { dropped: lost, inFlight: this.queue.inFlight, timeoutMs: this.config.flush_timeout_ms });
    }
    for (const wake of this.idleWriters.splice(0)) wake();
    // A write already sent normally ends soon, in success or failure; one hung on a
    // silent network must not keep the process from stopping.
    const finished = await settlesWithin(Promise.all([...this.writerLoops, this.pruning]), this.config.flush_timeout_ms);
    if (!finished) this.log.error('writers_still_busy', { inFlight: this.queue.inFlight, timeoutMs: this.config.flush_timeout_ms });
    await this.sink.close();
    const stats = this.stats();
    this.log.info('closed', {
      written: stats.resultsWritten,
      dropped: Object.values(stats.resultsDropped).reduce((a, b) => a + b, 0),
    });
  }
}

/** True when the promise settles within ms. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.finally(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts the reporter: opens its writer, listens, starts the writers and the series pruning. */
export async function startReporter(given: StartReporterOptions): Promise<Reporter> {
  const options = { ...given, ...configFrom(REPORTER_CONFIG_SECTIONS, given) };
  const sink = await openSink(options.store);
  try {
    const service = new ReporterService(options, options.reporter, sink);
    await service.start();
    return service;
  } catch (err) {
    await sink.close();
    throw err;
  }
}
