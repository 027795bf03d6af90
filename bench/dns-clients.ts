/**
 * Raw-frame TCP clients for the dns bench, lighter than the reactor's
 * TcpClient so the load generator leaves the shared CPU to the dns:
 * - runGetRouteLoad: N connections keep `depth` GetRouteRequests in flight
 *   each, for random routes, and time every GetRouteResponse;
 * - openSubscribers: one connection per given route asks for it once, then
 *   reports every later frame (a push) with its arrival time.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeFrame, FrameDecoder } from '../src/protocol/frame.js';
import { decodeBody, encodeBody } from '../src/protocol/messages.js';
import { MsgId } from '../src/protocol/msgid.js';
import type { RouteId } from './dns-seed.js';

/** Connections opened at once: stays under the listen backlog. */
const CONNECT_BATCH = 100;
const MAX_FRAME = 64 * 1024 * 1024;

export function getRouteFrame(route: RouteId): Buffer {
  return encodeFrame(MsgId.GetRouteRequest, encodeBody(MsgId.GetRouteRequest, route));
}

function connectOne(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

export async function openSockets(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  try {
    while (sockets.length < count) {
      const batch = Math.min(CONNECT_BATCH, count - sockets.length);
      sockets.push(...(await Promise.all(Array.from({ length: batch }, () => connectOne(port)))));
    }
    return sockets;
  } catch (err) {
    await closeSockets(sockets);
    throw err;
  }
}

export async function closeSockets(sockets: readonly Socket[]): Promise<void> {
  await Promise.all(
    sockets.map((socket) =>
      socket.destroyed ? undefined : new Promise((resolve) => socket.once('close', resolve).destroy()),
    ),
  );
}

/** Calls onFrame per frame received; a broken stream closes the socket. */
function readFrames(socket: Socket, onFrame: (msgid: number, body: Buffer) => void): void {
  const decoder = new FrameDecoder(MAX_FRAME);
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk, onFrame);
    } catch {
      socket.destroy();
    }
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface LoadOptions {
  port: number;
  connections: number;
  /** Requests in flight per connection. */
  depth: number;
  /** Pre-encoded GetRouteRequest frames, one picked at random per request. */
  requests: readonly Buffer[];
  warmupMs: number;
  measureMs: number;
  /** Called once a second while measuring, with the responses of that second. */
  progress(second: number, responses: number): void;
  /** Called when the warm-up ends and measuring starts. */
  onMeasureStart(): Promise<void> | void;
}

export interface LoadResult {
  responses: number;
  elapsedMs: number;
  /** Per request, send to response, ms. */
  latencies: number[];
}

/** Drives the load; counts only what answers after the warm-up. */
export async function runGetRouteLoad(options: LoadOptions): Promise<LoadResult> {
  const sockets = await openSockets(options.port, options.connections);
  let running = true;
  let measuring = false;
  let inFlight = 0;
  let responses = 0;
  let latencies: number[] = [];
  const pick = () => options.requests[Math.floor(Math.random() * options.requests.length)]!;
  const send = (socket: Socket, sentAt: number[], count: number) => {
    const frames = Array.from({ length: count }, pick);
    const now = performance.now();
    for (let i = 0; i < count; i++) sentAt.push(now);
    inFlight += count;
    socket.write(count === 1 ? frames[0]! : Buffer.concat(frames));
  };
  try {
    for (const socket of sockets) {
      // Answers come back in request order on one connection: a FIFO of send times suffices.
      const sentAt: number[] = [];
      let answered = 0;
      readFrames(socket, (msgid) => {
        if (msgid !== MsgId.GetRouteResponse) return;
        const now = performance.now();
        const sent = sentAt.shift()!;
        inFlight -= 1;
        if (measuring) {
          responses += 1;
          latencies.push(now - sent);
        }
        answered += 1;
      });
      // Refill after the whole chunk is handled, so one write carries every replacement.
      socket.on('data', () => {
        if (running && answered > 0) send(socket, sentAt, answered);
        answered = 0;
      });
      send(socket, sentAt, options.depth);
    }
    await new Promise((resolve) => setTimeout(resolve, options.warmupMs));
    await options.onMeasureStart();
    latencies = [];
    responses = 0;
    measuring = true;
    const started = performance.now();
    for (let second = 1; second * 1000 <= options.measureMs; second++) {
      const before = responses;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      options.progress(second, responses - before);
    }
    const elapsedMs = performance.now() - started;
    measuring = false;
    const result = { responses, elapsedMs, latencies };
    running = false;
    await waitUntil(() => inFlight === 0, 10_000, 'the last GetRoute answers');
    return result;
  } finally {
    running = false;
    await closeSockets(sockets);
  }
}

export interface Push {
  /** Index into the routes given to openSubscribers. */
  subscriber: number;
  arrivedAt: number;
  hosts: number;
}

export interface Subscribers {
  close(): Promise<void>;
}

/**
 * One connection per route: asks for it, waits for every answer, then hands
 * each later frame to onPush.
 */
export async function openSubscribers(
  port: number,
  routes: readonly RouteId[],
  onPush: (push: Push) => void,
  timeoutMs: number,
): Promise<Subscribers> {
  const sockets = await openSockets(port, routes.length);
  let answered = 0;
  sockets.forEach((socket, subscriber) => {
    let first = true;
    readFrames(socket, (msgid, body) => {
      if (msgid !== MsgId.GetRouteResponse) return;
      const arrivedAt = performance.now();
      if (first) {
        first = false;
        answered += 1;
        return;
      }
      onPush({ subscriber, arrivedAt, hosts: decodeBody(MsgId.GetRouteResponse, body).host.length });
    });
    socket.write(getRouteFrame(routes[subscriber]!));
  });
  const close = () => closeSockets(sockets);
  try {
    await waitUntil(() => answered === sockets.length, timeoutMs, `${sockets.length} route answers`);
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}
