/**
 * proto/lars.proto as schemas for the wire codec (protobuf.ts): one per
 * message, field for field, with the shape decodeMessage gives (every field
 * present: an absent optional or message field is null). The .proto file is
 * the contract shared with Lars's C++ code and our other clients; a test
 * reads it and checks that these schemas say the same (test/protocol).
 */
import { messageSchema, type MessageSchema } from './protobuf.js';

export interface WireHostInfo {
  ip: number;
  port: number;
  weight: number | null;
  load: number | null;
}
export const HostInfo = messageSchema<WireHostInfo>('HostInfo', [
  { no: 1, name: 'ip', type: 'int32' },
  { no: 2, name: 'port', type: 'int32' },
  { no: 3, name: 'weight', type: 'int32', label: 'optional' },
  { no: 4, name: 'load', type: 'uint32', label: 'optional' },
]);

export const GetRouteRequest = messageSchema<{ modid: number; cmdid: number }>('GetRouteRequest', [
  { no: 1, name: 'modid', type: 'int32' },
  { no: 2, name: 'cmdid', type: 'int32' },
]);

export const GetRouteResponse = messageSchema<{ modid: number; cmdid: number; host: WireHostInfo[]; strategy: string | null }>('GetRouteResponse', [
  { no: 1, name: 'modid', type: 'int32' },
  { no: 2, name: 'cmdid', type: 'int32' },
  { no: 3, name: 'host', type: HostInfo, label: 'repeated' },
  { no: 4, name: 'strategy', type: 'string', label: 'optional' },
]);

export interface WireHostCallResult {
  ip: number;
  port: number;
  succ: number;
  err: number;
  overload: boolean;
  timed: number;
  durationUs: number;
  maxDurationUs: number;
}
export const HostCallResult = messageSchema<WireHostCallResult>('HostCallResult', [
  { no: 1, name: 'ip', type: 'int32' },
  { no: 2, name: 'port', type: 'int32' },
  { no: 3, name: 'succ', type: 'uint32' },
  { no: 4, name: 'err', type: 'uint32' },
  { no: 5, name: 'overload', type: 'bool' },
  { no: 6, name: 'timed', type: 'uint32' },
  { no: 7, name: 'durationUs', type: 'uint64' },
  { no: 8, name: 'maxDurationUs', type: 'uint32' },
]);

export const ReportStatusRequest = messageSchema<{ modid: number; cmdid: number; caller: number; results: WireHostCallResult[]; ts: number; seq: number }>(
  'ReportStatusRequest',
  [
    { no: 1, name: 'modid', type: 'int32' },
    { no: 2, name: 'cmdid', type: 'int32' },
    { no: 3, name: 'caller', type: 'int32' },
    { no: 4, name: 'results', type: HostCallResult, label: 'repeated' },
    { no: 5, name: 'ts', type: 'uint32' },
    { no: 6, name: 'seq', type: 'uint32' },
  ],
);

export const GetHostRequest = messageSchema<{ seq: number; modid: number; cmdid: number; key: string }>('GetHostRequest', [
  { no: 1, name: 'seq', type: 'uint32' },
  { no: 2, name: 'modid', type: 'int32' },
  { no: 3, name: 'cmdid', type: 'int32' },
  { no: 4, name: 'key', type: 'string' },
]);

export const GetHostResponse = messageSchema<{ seq: number; modid: number; cmdid: number; retcode: number; host: WireHostInfo | null }>('GetHostResponse', [
  { no: 1, name: 'seq', type: 'uint32' },
  { no: 2, name: 'modid', type: 'int32' },
  { no: 3, name: 'cmdid', type: 'int32' },
  { no: 4, name: 'retcode', type: 'int32' },
  { no: 5, name: 'host', type: HostInfo },
]);

export const ReportRequest = messageSchema<{ modid: number; cmdid: number; host: WireHostInfo | null; retcode: number; durationUs: number | null }>('ReportRequest', [
  { no: 1, name: 'modid', type: 'int32' },
  { no: 2, name: 'cmdid', type: 'int32' },
  { no: 3, name: 'host', type: HostInfo },
  { no: 4, name: 'retcode', type: 'int32' },
  { no: 5, name: 'durationUs', type: 'uint32', label: 'optional' },
]);

export const RegisterRequest = messageSchema<{
  seq: number;
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
  weight: number | null;
  ttlMs: number;
  metadata: Record<string, string>;
}>('RegisterRequest', [
  { no: 1, name: 'seq', type: 'uint32' },
  { no: 2, name: 'modid', type: 'int32' },
  { no: 3, name: 'cmdid', type: 'int32' },
  { no: 4, name: 'ip', type: 'int32' },
  { no: 5, name: 'port', type: 'int32' },
  { no: 6, name: 'weight', type: 'uint32', label: 'optional' },
  { no: 7, name: 'ttlMs', type: 'uint32' },
  { no: 8, name: 'metadata', type: 'map' },
]);

export interface WireInstanceLoad {
  inFlight: number;
  connections: number;
  cpuPermille: number;
  score: number;
}
export const InstanceLoad = messageSchema<WireInstanceLoad>('InstanceLoad', [
  { no: 1, name: 'inFlight', type: 'uint32' },
  { no: 2, name: 'connections', type: 'uint32' },
  { no: 3, name: 'cpuPermille', type: 'uint32' },
  { no: 4, name: 'score', type: 'uint32' },
]);

export const RenewRequest = messageSchema<{ seq: number; lease: number; modid: number; cmdid: number; ip: number; port: number; load: WireInstanceLoad | null }>(
  'RenewRequest',
  [
    { no: 1, name: 'seq', type: 'uint32' },
    { no: 2, name: 'lease', type: 'uint32' },
    { no: 3, name: 'modid', type: 'int32' },
    { no: 4, name: 'cmdid', type: 'int32' },
    { no: 5, name: 'ip', type: 'int32' },
    { no: 6, name: 'port', type: 'int32' },
    { no: 7, name: 'load', type: InstanceLoad },
  ],
);

export const RegistryReply = messageSchema<{ seq: number; status: number; reason: string; lease: number; ttlMs: number; ip: number }>('RegistryReply', [
  { no: 1, name: 'seq', type: 'uint32' },
  { no: 2, name: 'status', type: 'int32' },
  { no: 3, name: 'reason', type: 'string' },
  { no: 4, name: 'lease', type: 'uint32' },
  { no: 5, name: 'ttlMs', type: 'uint32' },
  { no: 6, name: 'ip', type: 'int32' },
]);

/** KeepaliveRequest and KeepaliveReply: the same one field. */
export const Keepalive = messageSchema<{ seq: number }>('Keepalive', [{ no: 1, name: 'seq', type: 'uint32' }]);

export const ReportAck = messageSchema<{ seq: number[] }>('ReportAck', [{ no: 1, name: 'seq', type: 'uint32', label: 'repeated' }]);

export const AuthRequest = messageSchema<{ token: string }>('AuthRequest', [{ no: 1, name: 'token', type: 'string' }]);

export const AuthRefused = messageSchema<{ reason: string }>('AuthRefused', [{ no: 1, name: 'reason', type: 'string' }]);

/** Every schema by its lars.proto name (KeepaliveRequest and KeepaliveReply share one). */
export const SCHEMAS: Readonly<Record<string, MessageSchema<object>>> = {
  HostInfo,
  GetRouteRequest,
  GetRouteResponse,
  HostCallResult,
  ReportStatusRequest,
  GetHostRequest,
  GetHostResponse,
  ReportRequest,
  RegisterRequest,
  InstanceLoad,
  RenewRequest,
  RegistryReply,
  KeepaliveRequest: Keepalive,
  KeepaliveReply: Keepalive,
  ReportAck,
  AuthRequest,
  AuthRefused,
};
