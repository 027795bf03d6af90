/** Lars message ids (docs/protocol.md). Ids from 100 up are our extensions. */
export const MsgId = {
  GetRouteRequest: 1,
  GetRouteResponse: 2,
  ReportStatusRequest: 3,
  GetHostRequest: 4,
  GetHostResponse: 5,
  ReportRequest: 6,
  ApiGetRouteRequest: 7,
  ApiGetRouteResponse: 8,
  /** client -> agent: the balancer's view of one route; body as GetRouteRequest. */
  RouteStatusRequest: 100,
  /** agent -> client: that view as UTF-8 JSON (route-status.ts). */
  RouteStatusResponse: 101,
  /** server -> dns: register an instance (docs/registry.md); answered by RegistryReply. */
  RegisterRequest: 102,
  /** server -> dns: renew a lease, with the server's load. */
  RenewRequest: 103,
  /** server -> dns: give a lease back. */
  DeregisterRequest: 104,
  /** dns -> server: the answer to 102, 103 or 104, matched by seq. */
  RegistryReply: 105,
  /** client -> service on a quiet link (docs/reactor.md, "Keepalive"); answered by 107, ignored by Lars's services. */
  KeepaliveRequest: 106,
  /** service -> client: the answer to 106, with its seq. */
  KeepaliveReply: 107,
  /** reporter -> agent: the reports (ReportStatusRequest.seq) now stored (docs/reporter.md, "Acknowledgements"). */
  ReportAck: 108,
  /** client -> service: the connection's first frame when the service requires a token (docs/reactor.md). */
  AuthRequest: 110,
  /** service -> client: why the connection is being closed (authentication failed). */
  AuthRefused: 111,
} as const;

export type MsgId = (typeof MsgId)[keyof typeof MsgId];
