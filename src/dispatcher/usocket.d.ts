/**
 * Types for the parts of the `usocket` package (UNIX sockets with SCM_RIGHTS
 * descriptor passing) that the dispatcher uses. The package ships no types.
 */
declare module 'usocket' {
  import { Duplex } from 'node:stream';
  import { EventEmitter } from 'node:events';

  export interface USocketWrite {
    data?: Buffer;
    fds?: number[];
    /** Called once the data and descriptors are in the kernel. */
    callback?: () => void;
  }

  export class USocket extends Duplex {
    constructor(options?: { path?: string; fd?: number });
    readonly fd: number | undefined;
    connect(path: string): void;
    /** With a second argument: the data plus up to `fdCount` received descriptors (null = all). */
    read(size: number | null, fdCount: number | null): { data: Buffer | null; fds: number[] } | null;
    read(size?: number): unknown;
    write(chunk: Buffer | USocketWrite, callback?: (err?: Error | null) => void): boolean;
    on(event: 'connected' | 'end' | 'close', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'fds', listener: (fds: number[]) => void): this;
    destroy(): this;
  }

  export class UServer extends EventEmitter {
    readonly fd: number | undefined;
    listen(path: string, backlog: number, callback?: () => void): void;
    close(): void;
    on(event: 'listening', listener: () => void): this;
    on(event: 'connection', listener: (socket: USocket) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }
}
