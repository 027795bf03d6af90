/**
 * Asking a dns for a route over TCP, as an agent does (GetRouteRequest,
 * docs/protocol.md), to see which instances it serves.
 */
import { intToIp } from '../../src/protocol/ip.js';
import type { DecodedGetRouteResponse } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RawTcpClient, waitFor, type WaitOptions } from './net.js';

/** The route's hosts as "ip:port", with the load each carries (null when none). */
export async function routeOf(port: number, modid: number, cmdid: number): Promise<Map<string, number | null>> {
  const client = await RawTcpClient.connect(port);
  try {
    client.send(MsgId.GetRouteRequest, { modid, cmdid });
    const answer = (await client.nextMessage(MsgId.GetRouteResponse)) as DecodedGetRouteResponse;
    return new Map(answer.host.map((h) => [`${intToIp(h.ip)}:${h.port}`, h.load]));
  } finally {
    await client.close();
  }
}

/** Asks again until the route satisfies the condition; resolves with that route. */
export function waitForRoute(
  port: number,
  modid: number,
  cmdid: number,
  condition: (hosts: Map<string, number | null>) => boolean,
  options: WaitOptions = {},
): Promise<Map<string, number | null>> {
  return waitFor(
    async () => {
      const hosts = await routeOf(port, modid, cmdid).catch(() => undefined);
      return hosts && condition(hosts) ? hosts : undefined;
    },
    { message: `route ${modid}:${cmdid} on dns :${port} to satisfy ${condition.toString()}`, intervalMs: 50, ...options },
  );
}
