/** Lars message ids (docs/protocol.md). Ids from 100 up are ours. */
export const MsgId = {
  GetRouteRequest: 1,
  GetRouteResponse: 2,
  ReportStatusRequest: 3,
  GetHostRequest: 4,
  GetHostResponse: 5,
  ReportRequest: 6,
  ApiGetRouteRequest: 7,
  ApiGetRouteResponse: 8,
} as const;

export type MsgId = (typeof MsgId)[keyof typeof MsgId];
