/**
 * The dispatcher's view of its workers' loads, free of I/O.
 *
 * A connection counts against a worker from the moment its descriptor is
 * sent (optimistic), so a burst spreads evenly before any report comes back.
 * Each report carries how many descriptors the worker has received on this
 * link; the ones sent but not yet received are "in flight", so
 *   load = reported connections + (sent - received)
 * is exact once the worker catches up, and never double counts.
 */
import { LeastConnectionsPicker } from './picker.js';
import { ProtocolError, type WorkerStatus } from './protocol.js';

interface WorkerLoad {
  readonly id: number;
  readonly pid: number;
  reported: number;
  received: number;
  sent: number;
  detaching: boolean;
}

export class WorkerTable {
  private readonly workers = new Map<number, WorkerLoad>();
  private readonly picker = new LeastConnectionsPicker();

  /** maxInFlight bounds unread descriptors per worker, keeping its control socket from filling up. */
  constructor(private readonly maxInFlight: number) {}

  get size(): number {
    return this.workers.size;
  }

  has(id: number): boolean {
    return this.workers.has(id);
  }

  add(id: number, pid: number, connections: number): void {
    this.workers.set(id, { id, pid, reported: connections, received: 0, sent: 0, detaching: false });
  }

  pid(id: number): number {
    return this.get(id).pid;
  }

  load(id: number): number {
    const w = this.get(id);
    return w.reported + w.sent - w.received;
  }

  recordSent(id: number): void {
    this.get(id).sent += 1;
  }

  /** Applies a report; returns how many more hand-overs the worker has now confirmed. */
  recordLoad(id: number, connections: number, received: number): number {
    const w = this.get(id);
    if (received > w.sent) throw new ProtocolError(`worker reports ${received} received, only ${w.sent} sent`);
    const confirmed = Math.max(0, received - w.received);
    w.reported = connections;
    w.received = Math.max(w.received, received);
    return confirmed;
  }

  markDetaching(id: number): void {
    this.get(id).detaching = true;
  }

  /** Forgets a worker; returns the descriptors that were still in flight to it (lost with it). */
  remove(id: number): number {
    const w = this.workers.get(id);
    if (!w) return 0;
    this.workers.delete(id);
    return w.sent - w.received;
  }

  /** The worker to receive the next connection, or undefined when none can take one. */
  pick(): number | undefined {
    const candidates = [];
    for (const w of this.workers.values()) {
      if (!w.detaching && w.sent - w.received < this.maxInFlight) candidates.push({ id: w.id, load: this.load(w.id) });
    }
    return this.picker.pick(candidates);
  }

  statuses(): WorkerStatus[] {
    return [...this.workers.values()].map((w) => ({ pid: w.pid, connections: this.load(w.id) }));
  }

  private get(id: number): WorkerLoad {
    const w = this.workers.get(id);
    if (!w) throw new Error(`no worker ${id}`);
    return w;
  }
}
