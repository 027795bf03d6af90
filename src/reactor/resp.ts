/**
 * The few parts of Redis's protocol (RESP2) that the change feed's pub/sub
 * needs: commands out, replies and pushed messages in, over one TCP
 * connection (docs/dns.md, "Notification", says why this is ours and not a
 * client package). The decoder is pure; RespConnection adds the socket.
 */
import { connect, type Socket } from 'node:net';

/** An error reply ("-ERR ..."): the server refused a command. */
export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespError';
  }
}

/** Bytes that are not RESP (or a reply past the size bound): the connection cannot go on. */
export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

export type RespValue = string | number | null | RespError | RespValue[];

export function encodeCommand(args: readonly string[]): Buffer {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return Buffer.from(text);
}

const CRLF = Buffer.from('\r\n');

/** Splits a byte stream into replies; keeps an incomplete one for the next chunk. */
export class RespDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  /** maxBytes bounds what one reply may hold back, so a hostile server cannot grow it without end. */
  constructor(private readonly maxBytes = 1024 * 1024) {}

  push(chunk: Buffer): RespValue[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const values: RespValue[] = [];
    for (let parsed = this.parse(0); parsed; parsed = this.parse(0)) {
      values.push(parsed.value);
      this.buffer = this.buffer.subarray(parsed.end);
    }
    if (this.buffer.length > this.maxBytes) throw new RespProtocolError(`a reply of more than ${this.maxBytes} bytes`);
    return values;
  }

  private length(line: string): number {
    if (!/^(-1|\d{1,10})$/.test(line) || Number(line) > this.maxBytes) throw new RespProtocolError(`bad length ${JSON.stringify(line.slice(0, 16))}`);
    return Number(line);
  }

  /** The value starting at `at` and where it ends, or undefined while it is incomplete. */
  private parse(at: number): { value: RespValue; end: number } | undefined {
    const buffer = this.buffer;
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const line = buffer.toString('utf8', at + 1, lineEnd);
    const next = lineEnd + 2;
    switch (buffer[at]) {
      case 0x2b: // +
        return { value: line, end: next };
      case 0x2d: // -
        return { value: new RespError(line), end: next };
      case 0x3a: // :
        if (!/^-?\d{1,19}$/.test(line)) throw new RespProtocolError(`bad integer ${JSON.stringify(line.slice(0, 16))}`);
        return { value: Number(line), end: next };
      case 0x24: {
        // $
        const size = this.length(line);
        if (size < 0) return { value: null, end: next };
        if (buffer.length < next + size + 2) return undefined;
        if (buffer[next + size] !== 0x0d || buffer[next + size + 1] !== 0x0a) throw new RespProtocolError('bulk string without its CRLF');
        return { value: buffer.toString('utf8', next, next + size), end: next + size + 2 };
      }
      case 0x2a: {
        // *
        const count = this.length(line);
        if (count < 0) return { value: null, end: next };
        const items: RespValue[] = [];
        let end = next;
        for (let i = 0; i < count; i += 1) {
          const item = this.parse(end);
          if (!item) return undefined;
          items.push(item.value);
          end = item.end;
        }
        return { value: items, end };
      }
      default:
        throw new RespProtocolError(`unexpected byte 0x${buffer[at]!.toString(16)}`);
    }
  }
}

export interface RespConnectOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** A value that answers no command: a pub/sub message. */
  onPush?(value: RespValue): void;
  /** Once, when the connection is gone for any reason (close() included). */
  onClose?(err: Error): void;
}

/** One connection; replies answer commands in order, anything else is a push. */
export class RespConnection {
  private readonly pending: { resolve(value: RespValue): void; reject(err: Error): void }[] = [];
  private readonly decoder = new RespDecoder();
  private closedBy: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly options: RespConnectOptions,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.end(err));
    socket.on('close', () => this.end(new Error('connection closed')));
  }

  static connect(options: RespConnectOptions): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.setTimeout(options.connectTimeoutMs, () => fail(new Error(`no connection within ${options.connectTimeoutMs} ms`)));
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        resolve(new RespConnection(socket, options));
      });
    });
  }

  /** Resolves with the reply; rejects with RespError for an error reply, or when the connection is gone. */
  command(args: readonly string[]): Promise<RespValue> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.end(new Error('closed'));
  }

  private onData(chunk: Buffer): void {
    let values: RespValue[];
    try {
      values = this.decoder.push(chunk);
    } catch (err) {
      this.end(err as Error);
      return;
    }
    for (const value of values) {
      const waiting = this.pending.shift();
      if (!waiting) this.options.onPush?.(value);
      else if (value instanceof RespError) waiting.reject(value);
      else waiting.resolve(value);
    }
  }

  private end(err: Error): void {
    if (this.closedBy) return;
    this.closedBy = err;
    this.socket.destroy();
    for (const waiting of this.pending.splice(0)) waiting.reject(err);
    this.options.onClose?.(err);
  }
}
