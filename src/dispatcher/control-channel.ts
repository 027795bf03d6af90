/**
 * One end of a dispatcher<->worker control link: a UNIX stream socket from
 * the `usocket` package (the only way to send SCM_RIGHTS from Node to an
 * unrelated process), carrying newline-delimited JSON.
 *
 * This class also fences off usocket's sharp edges:
 * - reading must not start before the connect completes (the native side
 *   aborts the process), and a socket must not be destroyed while its connect
 *   is still running on the thread pool;
 * - its own retry after EAGAIN drops the descriptors, so a message that the
 *   kernel does not take at once closes the link instead (the dispatcher
 *   bounds in-flight descriptors so this only happens to a stuck peer);
 * - received descriptors are queued in order; each "conn" line takes the next
 *   one, and any left when the link closes are closed, never leaked;
 * - its sockets and received descriptors are not close-on-exec: the link and
 *   each received descriptor get the flag here (close-on-exec.ts).
 */
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { USocket } from 'usocket';
import { keepFromChildren } from './close-on-exec.js';
import { encodeLine, LineSplitter, ProtocolError } from './protocol.js';

type State = 'connecting' | 'open' | 'closed';

export interface ControlChannel {
  on(event: 'open', listener: () => void): this;
  on(event: 'line', listener: (line: string) => void): this;
  /** Emitted once; `error` says why when the link did not end normally. */
  on(event: 'close', listener: (error?: Error) => void): this;
}

export class ControlChannel extends EventEmitter {
  private state: State;
  private closeWhenConnected = false;
  private readonly fds: number[] = [];
  private readonly lines = new LineSplitter();

  private constructor(private readonly socket: USocket, state: State) {
    super();
    this.state = state;
    socket.on('error', (err) => this.finish(err));
    if (state === 'open') this.startReading();
    else socket.on('connected', () => (this.closeWhenConnected ? this.finish() : this.startReading()));
  }

  /** Connects to a dispatcher's socket; 'open' or 'close' follows. */
  static connect(path: string): ControlChannel {
    const socket = new USocket();
    const channel = new ControlChannel(socket, 'connecting');
    socket.connect(path);
    return channel;
  }

  /** Wraps a socket the dispatcher's UServer accepted. */
  static adopt(socket: USocket): ControlChannel {
    return new ControlChannel(socket, 'open');
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /**
   * Sends one message, with a descriptor attached when given. Returns false,
   * and closes the link, when the kernel did not take it whole right away.
   */
  send(message: object, fd?: number): boolean {
    if (this.state !== 'open') return false;
    let written = false;
    this.socket.write({
      data: encodeLine(message),
      ...(fd === undefined ? {} : { fds: [fd] }),
      callback: () => {
        written = true;
      },
    });
    if (!written) this.finish(new Error('control socket did not take the message (peer not reading)'));
    return written;
  }

  /** The next received descriptor, in arrival order. */
  takeFd(): number | undefined {
    return this.fds.shift();
  }

  close(error?: Error): void {
    if (this.state === 'connecting') this.closeWhenConnected = true;
    else this.finish(error);
  }

  private startReading(): void {
    this.state = 'open';
    if (this.socket.fd !== undefined) keepFromChildren(this.socket.fd);
    this.socket.on('fds', (fds) => {
      for (const fd of fds) keepFromChildren(fd);
      this.fds.push(...fds);
      this.socket.read(0, null); // usocket keeps its own copy of the list; empty it
    });
    this.socket.on('data', (chunk) => {
      let lines: string[];
      try {
        lines = this.lines.push(chunk);
      } catch (err) {
        this.finish(err as ProtocolError);
        return;
      }
      for (const line of lines) {
        if (this.state !== 'open') return;
        this.emit('line', line);
      }
    });
    this.socket.on('end', () => this.finish());
    this.emit('open');
  }

  private finish(error?: Error): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.destroy();
    for (const fd of this.fds.splice(0)) closeQuietly(fd);
    this.emit('close', error);
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing left to release
  }
}
