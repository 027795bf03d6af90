/**
 * The msgid router of the TCP server and client: one handler per msgid,
 * either typed (the body is decoded as the msgid's message) or raw (the
 * handler gets the body bytes).
 */
import { decodeBody, isKnownMsgId, type KnownMsgId } from '../protocol/messages.js';

export interface Route<F> {
  readonly msgid: number;
  /** Raw routes get the body bytes undecoded. */
  readonly raw: boolean;
  readonly handler: F;
}

/** Why a frame could not be handed to a handler. */
export class RouteError extends Error {
  constructor(
    message: string,
    readonly kind: 'unknown_msgid' | 'malformed_body',
  ) {
    super(message);
    this.name = 'RouteError';
  }
}

export class Router<F> {
  private readonly routes = new Map<number, Route<F>>();

  /** Registers the handler of one msgid; a second handler for the same id is a programming error. */
  add(msgid: number, handler: F, raw: boolean): void {
    if (!Number.isInteger(msgid) || msgid < 0 || msgid > 0x7fffffff) throw new RangeError(`invalid msgid ${msgid}`);
    if (!raw && !isKnownMsgId(msgid)) throw new RangeError(`msgid ${msgid} has no message type; register it raw`);
    if (this.routes.has(msgid)) throw new Error(`msgid ${msgid} already has a handler`);
    this.routes.set(msgid, { msgid, raw, handler });
  }

  has(msgid: number): boolean {
    return this.routes.has(msgid);
  }

  /** The route of a msgid, or undefined. */
  find(msgid: number): Route<F> | undefined {
    return this.routes.get(msgid);
  }

  /** The route of a msgid; throws RouteError when nothing handles it. */
  route(msgid: number): Route<F> {
    const route = this.routes.get(msgid);
    if (route === undefined) throw new RouteError(`unknown msgid ${msgid}`, 'unknown_msgid');
    return route;
  }

  /** The payload a route's handler takes; throws RouteError when the body does not decode. */
  payload(route: Route<F>, body: Buffer): unknown {
    if (route.raw) return body;
    try {
      return decodeBody(route.msgid as KnownMsgId, body);
    } catch (err) {
      throw new RouteError((err as Error).message, 'malformed_body');
    }
  }
}

export type HandlerErrorSink<F> = (err: unknown, route: Route<F>, first: unknown) => void;

/**
 * Calls a route's handler with up to three arguments and reports a throw or a
 * rejected promise to onError, so a faulty handler costs a log line, never the
 * process. No closure is made unless the handler returns a promise: this runs
 * once per datagram on the agent's hot path. Returns, for a handler that
 * returned a promise, one that settles (never rejects) when it did, so a
 * caller can count calls in flight.
 */
export function callHandler<F>(route: Route<F>, a: unknown, b: unknown, c: unknown, onError: HandlerErrorSink<F>): PromiseLike<unknown> | undefined {
  let result: unknown;
  try {
    result = (route.handler as (a: unknown, b: unknown, c: unknown) => unknown)(a, b, c);
  } catch (err) {
    onError(err, route, a);
    return undefined;
  }
  if (result !== undefined && result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
    return (result as PromiseLike<unknown>).then(undefined, (err: unknown) => onError(err, route, a));
  }
  return undefined;
}
