/**
 * Message bodies per msgid: the protocol boundary. decodeBody hands out plain
 * objects with every field present and its default filled in (no protobufjs
 * prototype behind them, so nothing depends on what the generated classes
 * default to); encodeBody takes plain objects in which a defaulted field may
 * be left out. Defaults are never sent, so our frames are Lars's bytes
 * (docs/protocol.md).
 */
import { lars } from './generated/lars.js';
import { MsgId } from './msgid.js';
import type { RouteStatus } from './route-status.js';

export { lars };

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

/** A generated protobufjs message type. */
interface Generated<P> {
  encode(message: P): { finish(): Uint8Array };
  decode(body: Uint8Array): P;
}

/** A protobuf codec: `plain` copies a decoded message into a plain object, `wire` prepares one for encoding. */
function protobuf<M, D extends M, P>(type: Generated<P>, plain: (message: P) => D, wire: (message: M) => P): Codec<M, D> {
  return { encode: (message) => type.encode(wire(message)).finish(), decode: (body) => plain(type.decode(body)) };
}

const same = <T>(message: T): T => message;

function plainHost(host: lars.HostInfo.$Properties): DecodedHostInfo {
  return { ip: host.ip ?? 0, port: host.port ?? 0, weight: host.weight ?? DEFAULT_HOST_WEIGHT };
}

/** Leaves the default weight out: HostInfo.weight is optional (present and 0 differ), so a 1 set would be sent. */
function wireHost(host: HostInfo): HostInfo {
  return host.weight === DEFAULT_HOST_WEIGHT ? { ip: host.ip, port: host.port } : host;
}

/** A message with a host, ready for encoding; the message itself unless the host's weight must be left out. */
function withWireHost<M extends { host?: HostInfo | null }>(message: M): M {
  return message.host?.weight === DEFAULT_HOST_WEIGHT ? { ...message, host: wireHost(message.host) } : message;
}

function plainRouteHost(host: lars.HostInfo.$Properties): DecodedRouteHost {
  return { ...plainHost(host), load: host.load ?? null };
}

/** Leaves the default weight and an absent load out. */
function wireRouteHost(host: RouteHost): RouteHost {
  const { load, ...rest } = host;
  const wire = wireHost(rest);
  return load === null || load === undefined ? wire : { ...wire, load };
}

const routeRequest = protobuf<GetRouteRequest, GetRouteRequest, lars.GetRouteRequest.$Properties>(
  lars.GetRouteRequest,
  (m) => ({ modid: m.modid ?? 0, cmdid: m.cmdid ?? 0 }),
  same,
);

const routeResponse = protobuf<GetRouteResponse, DecodedGetRouteResponse, lars.GetRouteResponse.$Properties>(
  lars.GetRouteResponse,
  (m) => ({ modid: m.modid ?? 0, cmdid: m.cmdid ?? 0, host: (m.host ?? []).map(plainRouteHost), strategy: m.strategy ?? null }),
  (m) => ({ modid: m.modid, cmdid: m.cmdid, host: m.host.map(wireRouteHost), strategy: m.strategy }),
);

const reportStatusRequest = protobuf<ReportStatusRequest, DecodedReportStatusRequest, lars.ReportStatusRequest.$Properties>(
  lars.ReportStatusRequest,
  (m) => ({
    modid: m.modid ?? 0,
    cmdid: m.cmdid ?? 0,
    caller: m.caller ?? 0,
    results: (m.results ?? []).map((r) => ({
      ip: r.ip ?? 0,
      port: r.port ?? 0,
      succ: r.succ ?? 0,
      err: r.err ?? 0,
      overload: r.overload ?? false,
      timed: r.timed ?? 0,
      // A uint64 decodes to a Long (long.js is installed) whatever the typings say; Number() reads either, exact below 2^53.
      durationUs: Number(r.durationUs ?? 0),
      maxDurationUs: r.maxDurationUs ?? 0,
    })),
    ts: m.ts ?? 0,
    seq: m.seq ?? 0,
  }),
  same,
);

const hostRequest = protobuf<GetHostRequest, DecodedGetHostRequest, lars.GetHostRequest.$Properties>(
  lars.GetHostRequest,
  (m) => ({ seq: m.seq ?? 0, modid: m.modid ?? 0, cmdid: m.cmdid ?? 0, key: m.key ?? '' }),
  same,
);

const hostResponse = protobuf<GetHostResponse, DecodedGetHostResponse, lars.GetHostResponse.$Properties>(
  lars.GetHostResponse,
  (m) => ({ seq: m.seq ?? 0, modid: m.modid ?? 0, cmdid: m.cmdid ?? 0, retcode: m.retcode ?? 0, host: m.host ? plainHost(m.host) : null }),
  withWireHost,
);

const reportRequest = protobuf<ReportRequest, DecodedReportRequest, lars.ReportRequest.$Properties>(
  lars.ReportRequest,
  (m) => ({ modid: m.modid ?? 0, cmdid: m.cmdid ?? 0, host: m.host ? plainHost(m.host) : null, retcode: m.retcode ?? 0, durationUs: m.durationUs ?? null }),
  withWireHost,
);

function plainLeaseRef(m: lars.RenewRequest.$Properties): LeaseRef {
  return { seq: m.seq ?? 0, lease: m.lease ?? 0, modid: m.modid ?? 0, cmdid: m.cmdid ?? 0, ip: m.ip ?? 0, port: m.port ?? 0 };
}

const registerRequest = protobuf<RegisterRequest, DecodedRegisterRequest, lars.RegisterRequest.$Properties>(
  lars.RegisterRequest,
  (m) => ({
    seq: m.seq ?? 0,
    modid: m.modid ?? 0,
    cmdid: m.cmdid ?? 0,
    ip: m.ip ?? 0,
    port: m.port ?? 0,
    weight: m.weight ?? null,
    ttlMs: m.ttlMs ?? 0,
    metadata: { ...(m.metadata ?? {}) },
  }),
  same,
);

const renewRequest = protobuf<RenewRequest, DecodedRenewRequest, lars.RenewRequest.$Properties>(
  lars.RenewRequest,
  (m) => ({
    ...plainLeaseRef(m),
    load: m.load
      ? { inFlight: m.load.inFlight ?? 0, connections: m.load.connections ?? 0, cpuPermille: m.load.cpuPermille ?? 0, score: m.load.score ?? 0 }
      : null,
  }),
  same,
);

/** Id 104 has RenewRequest's body; a load there means nothing and is dropped. */
const deregisterRequest = protobuf<DeregisterRequest, DeregisterRequest, lars.RenewRequest.$Properties>(lars.RenewRequest, plainLeaseRef, same);

const registryReply = protobuf<RegistryReply, DecodedRegistryReply, lars.RegistryReply.$Properties>(
  lars.RegistryReply,
  (m) => ({ seq: m.seq ?? 0, status: m.status ?? 0, reason: m.reason ?? '', lease: m.lease ?? 0, ttlMs: m.ttlMs ?? 0, ip: m.ip ?? 0 }),
  same,
);

const keepalive = <P extends { seq?: number | null }>(type: Generated<P>) =>
  protobuf<Keepalive, Keepalive, P>(type, (m) => ({ seq: m.seq ?? 0 }), (m) => m as P);
const reportAck = protobuf<ReportAck, ReportAck, lars.ReportAck.$Properties>(lars.ReportAck, (m) => ({ seq: [...(m.seq ?? [])] }), same);

const authRequest = protobuf<AuthRequest, AuthRequest, lars.AuthRequest.$Properties>(lars.AuthRequest, (m) => ({ token: m.token ?? '' }), same);
const authRefused = protobuf<AuthRefused, AuthRefused, lars.AuthRefused.$Properties>(lars.AuthRefused, (m) => ({ reason: m.reason ?? '' }), same);

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
  [MsgId.KeepaliveRequest]: keepalive(lars.KeepaliveRequest),
  [MsgId.KeepaliveReply]: keepalive(lars.KeepaliveReply),
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
