/**
 * Message bodies per msgid. Decoded messages are plain objects typed by the
 * generated `.$Properties` interfaces; fields the sender left out read as 0.
 */
import { lars } from './generated/lars.js';
import { MsgId } from './msgid.js';

export { lars };

export interface HostInfo {
  ip: number;
  port: number;
  /** Extension field 3: absent (or 0) means 1; dns sends it only for other weights. */
  weight?: number;
}
export interface GetRouteRequest {
  modid: number;
  cmdid: number;
}
export interface GetRouteResponse {
  modid: number;
  cmdid: number;
  host: HostInfo[];
}
export interface HostCallResult {
  ip: number;
  port: number;
  succ: number;
  err: number;
  overload: boolean;
}
export interface ReportStatusRequest {
  modid: number;
  cmdid: number;
  caller: number;
  results: HostCallResult[];
  ts: number;
}
export interface GetHostRequest {
  seq: number;
  modid: number;
  cmdid: number;
  /** Extension field 4: affinity key for the consistent_hash strategy; empty when absent. */
  key?: string;
}
export interface GetHostResponse {
  seq: number;
  modid: number;
  cmdid: number;
  retcode: number;
  host?: HostInfo | null;
}
export interface ReportRequest {
  modid: number;
  cmdid: number;
  host?: HostInfo | null;
  retcode: number;
}

/** The body type of each msgid. */
export interface MessageTypes {
  [MsgId.GetRouteRequest]: GetRouteRequest;
  [MsgId.GetRouteResponse]: GetRouteResponse;
  [MsgId.ReportStatusRequest]: ReportStatusRequest;
  [MsgId.GetHostRequest]: GetHostRequest;
  [MsgId.GetHostResponse]: GetHostResponse;
  [MsgId.ReportRequest]: ReportRequest;
  [MsgId.ApiGetRouteRequest]: GetRouteRequest;
  [MsgId.ApiGetRouteResponse]: GetRouteResponse;
}
export type KnownMsgId = keyof MessageTypes;

interface Codec {
  encode(message: object): { finish(): Uint8Array };
  decode(body: Uint8Array): object;
}

const codecs: Record<KnownMsgId, Codec> = {
  [MsgId.GetRouteRequest]: lars.GetRouteRequest,
  [MsgId.GetRouteResponse]: lars.GetRouteResponse,
  [MsgId.ReportStatusRequest]: lars.ReportStatusRequest,
  [MsgId.GetHostRequest]: lars.GetHostRequest,
  [MsgId.GetHostResponse]: lars.GetHostResponse,
  [MsgId.ReportRequest]: lars.ReportRequest,
  [MsgId.ApiGetRouteRequest]: lars.GetRouteRequest,
  [MsgId.ApiGetRouteResponse]: lars.GetRouteResponse,
};

export function isKnownMsgId(msgid: number): msgid is KnownMsgId {
  return Object.prototype.hasOwnProperty.call(codecs, msgid);
}

export function encodeBody<K extends KnownMsgId>(msgid: K, message: MessageTypes[K]): Uint8Array {
  return codecs[msgid].encode(message).finish();
}

/** Decodes a body; throws an Error naming the msgid when the bytes are not a valid message. */
export function decodeBody<K extends KnownMsgId>(msgid: K, body: Uint8Array): MessageTypes[K] {
  try {
    return codecs[msgid].decode(body) as MessageTypes[K];
  } catch (err) {
    throw new Error(`malformed body for msgid ${msgid}: ${(err as Error).message}`);
  }
}
