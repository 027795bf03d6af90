/**
 * Message bodies per msgid: the protocol boundary. decodeBody hands out plain
 * objects with every field present and its default filled in (the codec is
 * src/protocol/protobuf.ts, one schema per message in schemas.ts);
 * encodeBody takes plain objects in which a defaulted field may
 * be left out. Defaults are never sent, so our frames are Lars's bytes
 * (docs/protocol.md).
 */
import { MsgId } from './msgid.js';
import { decodeMessage, encodeMessage, type MessageSchema } from './protobuf.js';
import type { RouteStatus } from './route-status.js';
import * as schemas from './schemas.js';
import type { WireHostInfo } from './schemas.js';


/** A host's weight when HostInfo carries no field 3; never sent, so a route without weights is the bytes Lars sends. */
export const DEFAULT_HOST_WEIGHT = 1;

export interface HostInfo {
  ip: number;
  port: number;
  /** Extension field 3: DEFAULT_HOST_WEIGHT when left out; 0 drains the host (docs/balancer.md). */
  weight?: number;
}
/** A host of a route as dns sends it to agents. */
export interface RouteHost extends HostInfo {
  /** Extension field 4: a registered instance's load score (docs/registry.md); null or left out when none, and then not sent. */
  load?: number | null;
}
export interface GetRouteRequest {
  modid: number;
  cmdid: number;
}
export interface GetRouteResponse {
  modid: number;
  cmdid: number;
  host: RouteHost[];
  /**
   * Extension field 4 (dns -> agent): the strategy the route's module names
   * (docs/balancer.md, "Per-route strategy"); left out (null or absent) when
   * it names none, so the frame is Lars's bytes. The agent never sends it to
   * clients (id 8).
   */
  strategy?: string | null;
}
export interface HostCallResult {
  ip: number;
  port: number;
  succ: number;
  err: number;
  overload: boolean;
  /**
   * Extension fields 6-8 (docs/protocol.md, "Call durations"): of succ + err,
   * the calls reported with a duration, their durations summed and the
   * longest, µs. 0 or left out when none, and then not sent.
   */
  timed?: number;
  durationUs?: number;
  maxDurationUs?: number;
}
export interface ReportStatusRequest {
  modid: number;
  cmdid: number;
  caller: number;
  results: HostCallResult[];
  ts: number;
  /** Extension field 6: our agent's report number, acknowledged by ReportAck; 0 or left out (Lars's agents): none asked. */
  seq?: number;
}
export interface GetHostRequest {
  seq: number;
  modid: number;
  cmdid: number;
  /** Extension field 4: affinity key for the consistent_hash strategy; "" (no key) when left out. */
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
  /** Extension field 5: the call's duration in µs (uint32); null or left out when unknown, and then not sent. */
  durationUs?: number | null;
}

export interface RegisterRequest {
  seq: number;
  modid: number;
  cmdid: number;
  /** As HostInfo.ip; 0: the address dns sees the connection from. */
  ip: number;
  port: number;
  /** DEFAULT_HOST_WEIGHT when left out (null or absent). */
  weight?: number | null;
  /** 0 or left out: dns's default TTL. */
  ttlMs?: number;
  metadata?: Record<string, string>;
}
export interface InstanceLoad {
  inFlight: number;
  connections: number;
  /** CPU time per wall-clock time, per mille of one core. */
  cpuPermille: number;
  /** 0 idle, 1000 at capacity. */
  score: number;
}
/** Names the lease and the instance it was granted for. */
export interface LeaseRef {
  seq: number;
  lease: number;
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
}
export interface RenewRequest extends LeaseRef {
  load?: InstanceLoad | null;
}
export type DeregisterRequest = LeaseRef;
export interface RegistryReply {
  seq: number;
  /** RegistryStatus. */
  status: number;
  reason?: string;
  lease?: number;
  ttlMs?: number;
  ip?: number;
}

export interface Keepalive {
  seq: number;
}
export interface ReportAck {
  seq: number[];
}

export interface AuthRequest {
  token: string;
}
export interface AuthRefused {
  reason: string;
}

/** The body of each msgid, as a sender writes it. */
export interface MessageTypes {
  [MsgId.GetRouteRequest]: GetRouteRequest;
  [MsgId.GetRouteResponse]: GetRouteResponse;
  [MsgId.ReportStatusRequest]: ReportStatusRequest;
  [MsgId.GetHostRequest]: GetHostRequest;
  [MsgId.GetHostResponse]: GetHostResponse;
  [MsgId.ReportRequest]: ReportRequest;
  [MsgId.ApiGetRouteRequest]: GetRouteRequest;
  [MsgId.ApiGetRouteResponse]: GetRouteResponse;
  [MsgId.RouteStatusRequest]: GetRouteRequest;
  [MsgId.RouteStatusResponse]: RouteStatus;
  [MsgId.RegisterRequest]: RegisterRequest;
  [MsgId.RenewRequest]: RenewRequest;
  [MsgId.DeregisterRequest]: DeregisterRequest;
  [MsgId.RegistryReply]: RegistryReply;
  [MsgId.KeepaliveRequest]: Keepalive;
  [MsgId.KeepaliveReply]: Keepalive;
  [MsgId.ReportAck]: ReportAck;
  [MsgId.AuthRequest]: AuthRequest;
  [MsgId.AuthRefused]: AuthRefused;
}
export type KnownMsgId = keyof MessageTypes;

/** A decoded HostInfo: the weight is always there. */
export interface DecodedHostInfo extends HostInfo {
  weight: number;
}
export interface DecodedRouteHost extends DecodedHostInfo {
  /** null when field 4 was absent. */
  load: number | null;
}
export interface DecodedGetRouteResponse extends GetRouteResponse {
  host: DecodedRouteHost[];
  /** null when field 4 was absent. */
  strategy: string | null;
}
export type DecodedHostCallResult = Required<HostCallResult>;
export interface DecodedReportStatusRequest extends ReportStatusRequest {
  results: DecodedHostCallResult[];
  /** 0 when field 6 was absent. */
  seq: number;
}
export interface DecodedGetHostRequest extends GetHostRequest {
  key: string;
}
export interface DecodedGetHostResponse extends GetHostResponse {
  host: DecodedHostInfo | null;
}
export interface DecodedReportRequest extends ReportRequest {
  host: DecodedHostInfo | null;
  /** null when the client sent no duration; 0 is a duration. */
  durationUs: number | null;
}

export interface DecodedRegisterRequest extends RegisterRequest {
  /** null when field 6 was absent. */
  weight: number | null;
  ttlMs: number;
  metadata: Record<string, string>;
}
export interface DecodedRenewRequest extends RenewRequest {
  /** null when the server sent no load. */
  load: InstanceLoad | null;
}
export interface DecodedRegistryReply extends RegistryReply {
  reason: string;
  lease: number;
  ttlMs: number;
  ip: number;
}

/** The body of each msgid as decodeBody hands it out: every field present. */
export interface DecodedTypes extends MessageTypes {
  [MsgId.ReportStatusRequest]: DecodedReportStatusRequest;
  [MsgId.GetRouteResponse]: DecodedGetRouteResponse;
  [MsgId.GetHostRequest]: DecodedGetHostRequest;
  [MsgId.GetHostResponse]: DecodedGetHostResponse;
  [MsgId.ReportRequest]: DecodedReportRequest;
  [MsgId.ApiGetRouteResponse]: DecodedGetRouteResponse;
  [MsgId.RegisterRequest]: DecodedRegisterRequest;
  [MsgId.RenewRequest]: DecodedRenewRequest;
  [MsgId.RegistryReply]: DecodedRegistryReply;
}

/** A body that is not a valid message of its msgid. */
export class MalformedBodyError extends Error {
  constructor(msgid: number, reason: string) {
    super(`malformed body for msgid ${msgid}: ${reason}`);
    this.name = 'MalformedBodyError';
  }
}

interface Codec<M, D extends M> {
  encode(message: M): Uint8Array;
  /** Throws on bytes that are not a message (any error; decodeBody names the msgid). */
  decode(body: Uint8Array): D;
}

/** A protobuf codec (protobuf.ts): `plain` turns the decoded fields into the message handed out, `wire` prepares one for encoding. */
function protobuf<M, D extends M, P extends object>(schema: MessageSchema<P>, plain: (message: P) => D, wire: (message: M) => object): Codec<M, D> {
  return { encode: (message) => encodeMessage(schema, wire(message)), decode: (body) => plain(decodeMessage(schema, body)) };
}

const same = <T>(message: T): T => message;

function plainHost(host: WireHostInfo): DecodedHostInfo {
  return { ip: host.ip, port: host.port, weight: host.weight ?? DEFAULT_HOST_WEIGHT };
}

/** Leaves the default weight out: HostInfo.weight is optional (present and 0 differ), so a 1 set would be sent. */
function wireHost(host: HostInfo): HostInfo {
  return host.weight === DEFAULT_HOST_WEIGHT ? { ip: host.ip, port: host.port } : host;
}

/** A message with a host, ready for encoding; the message itself unless the host's weight must be left out. */
function withWireHost<M extends { host?: HostInfo | null }>(message: M): M {
  return message.host?.weight === DEFAULT_HOST_WEIGHT ? { ...message, host: wireHost(message.host) } : message;
}

function plainRouteHost(host: WireHostInfo): DecodedRouteHost {
  return { ...plainHost(host), load: host.load };
}

/** Leaves the default weight and an absent load out. */
function wireRouteHost(host: RouteHost): RouteHost {
  const { load, ...rest } = host;
  const wire = wireHost(rest);
  return load === null || load === undefined ? wire : { ...wire, load };
}

const routeRequest = protobuf<GetRouteRequest, GetRouteRequest, GetRouteRequest>(schemas.GetRouteRequest, same, same);

const routeResponse = protobuf(
  schemas.GetRouteResponse,
  (m): DecodedGetRouteResponse => ({ modid: m.modid, cmdid: m.cmdid, host: m.host.map(plainRouteHost), strategy: m.strategy }),
  (m: GetRouteResponse) => ({ modid: m.modid, cmdid: m.cmdid, host: m.host.map(wireRouteHost), strategy: m.strategy }),
);

const reportStatusRequest = protobuf<ReportStatusRequest, DecodedReportStatusRequest, DecodedReportStatusRequest>(schemas.ReportStatusRequest, same, same);

const hostRequest = protobuf<GetHostRequest, DecodedGetHostRequest, DecodedGetHostRequest>(schemas.GetHostRequest, same, same);

const hostResponse = protobuf(
  schemas.GetHostResponse,
  (m): DecodedGetHostResponse => ({ seq: m.seq, modid: m.modid, cmdid: m.cmdid, retcode: m.retcode, host: m.host ? plainHost(m.host) : null }),
  withWireHost<GetHostResponse>,
);

const reportRequest = protobuf(
  schemas.ReportRequest,
  (m): DecodedReportRequest => ({ modid: m.modid, cmdid: m.cmdid, host: m.host ? plainHost(m.host) : null, retcode: m.retcode, durationUs: m.durationUs }),
  withWireHost<ReportRequest>,
);

function plainLeaseRef(m: LeaseRef): LeaseRef {
  return { seq: m.seq, lease: m.lease, modid: m.modid, cmdid: m.cmdid, ip: m.ip, port: m.port };
}

const registerRequest = protobuf<RegisterRequest, DecodedRegisterRequest, DecodedRegisterRequest>(schemas.RegisterRequest, same, same);

const renewRequest = protobuf<RenewRequest, DecodedRenewRequest, DecodedRenewRequest>(schemas.RenewRequest, same, same);

/** Id 104 has RenewRequest's body; a load there means nothing and is dropped. */
const deregisterRequest = protobuf<DeregisterRequest, DeregisterRequest, DecodedRenewRequest>(schemas.RenewRequest, plainLeaseRef, same);

const registryReply = protobuf<RegistryReply, DecodedRegistryReply, DecodedRegistryReply>(schemas.RegistryReply, same, same);

const keepalive = protobuf<Keepalive, Keepalive, Keepalive>(schemas.Keepalive, same, same);
const reportAck = protobuf<ReportAck, ReportAck, ReportAck>(schemas.ReportAck, same, same);

const authRequest = protobuf<AuthRequest, AuthRequest, AuthRequest>(schemas.AuthRequest, same, same);
const authRefused = protobuf<AuthRefused, AuthRefused, AuthRefused>(schemas.AuthRefused, same, same);

const routeStatus: Codec<RouteStatus, RouteStatus> = {
  encode: (status) => Buffer.from(JSON.stringify(status)),
  decode(body) {
    const status = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as RouteStatus;
    if (typeof status?.modid !== 'number' || typeof status.cmdid !== 'number' || !Array.isArray(status.hosts)) {
      throw new Error('not a route status (modid, cmdid, hosts)');
    }
    return status;
  },
};

const codecs: { [K in KnownMsgId]: Codec<MessageTypes[K], DecodedTypes[K]> } = {
  [MsgId.GetRouteRequest]: routeRequest,
  [MsgId.GetRouteResponse]: routeResponse,
  [MsgId.ReportStatusRequest]: reportStatusRequest,
  [MsgId.GetHostRequest]: hostRequest,
  [MsgId.GetHostResponse]: hostResponse,
  [MsgId.ReportRequest]: reportRequest,
  [MsgId.ApiGetRouteRequest]: routeRequest,
  [MsgId.ApiGetRouteResponse]: routeResponse,
  [MsgId.RouteStatusRequest]: routeRequest,
  [MsgId.RouteStatusResponse]: routeStatus,
  [MsgId.RegisterRequest]: registerRequest,
  [MsgId.RenewRequest]: renewRequest,
  [MsgId.DeregisterRequest]: deregisterRequest,
  [MsgId.RegistryReply]: registryReply,
  [MsgId.KeepaliveRequest]: keepalive,
  [MsgId.KeepaliveReply]: keepalive,
  [MsgId.ReportAck]: reportAck,
  [MsgId.AuthRequest]: authRequest,
  [MsgId.AuthRefused]: authRefused,
};

export function isKnownMsgId(msgid: number): msgid is KnownMsgId {
  return Object.prototype.hasOwnProperty.call(codecs, msgid);
}

export function encodeBody<K extends KnownMsgId>(msgid: K, message: MessageTypes[K]): Uint8Array {
  return (codecs[msgid] as Codec<MessageTypes[K], DecodedTypes[K]>).encode(message);
}

/** Decodes a body into a plain object; throws MalformedBodyError when the bytes are not a valid message. */
export function decodeBody<K extends KnownMsgId>(msgid: K, body: Uint8Array): DecodedTypes[K] {
  try {
    return (codecs[msgid] as Codec<MessageTypes[K], DecodedTypes[K]>).decode(body);
  } catch (err) {
    throw new MalformedBodyError(msgid, (err as Error).message);
  }
}
