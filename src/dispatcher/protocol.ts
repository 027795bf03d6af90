/**
 * The control protocol between the dispatcher and its workers on the UNIX
 * socket: newline-delimited JSON, one object per line, each with a `type`.
 *
 * worker -> dispatcher
 *   {"type":"hello","pid":P,"connections":N}        first line of a worker link
 *   {"type":"load","connections":N,"received":R}     after every change; R = descriptors
 *                                                    received on this link so far
 *   {"type":"detach"}                                stop sending me connections
 *   {"type":"status"}                                (any client) ask for a DispatchStatus
 * dispatcher -> worker
 *   {"type":"welcome","id":I}                        reply to hello
 *   {"type":"conn"}                                  carries exactly one descriptor (SCM_RIGHTS)
 *   {"type":"detached"}                              nothing follows; close the link
 * The reply to "status" is one DispatchStatus line.
 */

/** Set by `lars dispatch --workers N` for the workers it starts: the path of the control socket. */
export const DISPATCH_SOCKET_ENV = 'LARS_DISPATCH_SOCKET';

export const MAX_LINE_BYTES = 64 * 1024;

export interface HelloMessage {
  type: 'hello';
  pid: number;
  connections: number;
}
export interface LoadMessage {
  type: 'load';
  connections: number;
  received: number;
}
export type ToDispatcher = HelloMessage | LoadMessage | { type: 'detach' } | { type: 'status' };
export type ToWorker = { type: 'welcome'; id: number } | { type: 'conn' } | { type: 'detached' };

export interface WorkerStatus {
  pid: number;
  /** Live connections: the worker's last report plus descriptors it has not yet confirmed. */
  connections: number;
}

export interface DispatchStatus {
  /** The dispatcher process. */
  pid: number;
  /** Bound TCP addresses, "HOST:PORT". */
  listening: string[];
  workers: WorkerStatus[];
  /** Connections the workers confirmed receiving. */
  handedOver: number;
  /** Connections closed without reaching a worker. */
  dropped: number;
  /** Open descriptors of the dispatcher process (Linux), for leak checks. */
  openFds: number | null;
}

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeLine(message: object): Buffer {
  return Buffer.from(JSON.stringify(message) + '\n');
}

/** Splits a byte stream into lines; a line longer than the limit is a protocol error. */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  push(chunk: Buffer): string[] {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let end = data.indexOf(10); end >= 0; end = data.indexOf(10, start)) {
      lines.push(data.toString('utf8', start, end));
      start = end + 1;
    }
    this.pending = Buffer.from(data.subarray(start));
    if (this.pending.length > this.maxLineBytes) throw new ProtocolError(`line longer than ${this.maxLineBytes} bytes`);
    return lines;
  }
}

function parseObject(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError(`not JSON: ${line.slice(0, 80)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('message is not an object');
  return value as Record<string, unknown>;
}

function count(message: Record<string, unknown>, field: string): number {
  const value = message[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ProtocolError(`${String(message.type)}.${field} must be a non-negative integer`);
  }
  return value;
}

export function parseToDispatcher(line: string): ToDispatcher {
  const message = parseObject(line);
  switch (message.type) {
    case 'hello':
      return { type: 'hello', pid: count(message, 'pid'), connections: count(message, 'connections') };
    case 'load':
      return { type: 'load', connections: count(message, 'connections'), received: count(message, 'received') };
    case 'detach':
    case 'status':
      return { type: message.type };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(message.type)}`);
  }
}

export function parseToWorker(line: string): ToWorker {
  const message = parseObject(line);
  switch (message.type) {
    case 'welcome':
      return { type: 'welcome', id: count(message, 'id') };
    case 'conn':
    case 'detached':
      return { type: message.type };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(message.type)}`);
  }
}

export function parseStatus(line: string): DispatchStatus {
  const message = parseObject(line);
  if (!Array.isArray(message.workers)) throw new ProtocolError('status has no workers list');
  const workers = message.workers.map((w: unknown) => {
    const worker = (typeof w === 'object' && w !== null ? w : {}) as Record<string, unknown>;
    return { pid: count(worker, 'pid'), connections: count(worker, 'connections') };
  });
  return {
    pid: count(message, 'pid'),
    listening: Array.isArray(message.listening) ? message.listening.map(String) : [],
    workers,
    handedOver: count(message, 'handedOver'),
    dropped: count(message, 'dropped'),
    openFds: typeof message.openFds === 'number' ? message.openFds : null,
  };
}
