/**
 * Which agent UDP port serves a route: basePort + (modid + cmdid) % 3, as in
 * Lars (docs/protocol.md). A route therefore always reaches the same agent
 * thread. The modulo is taken non-negative so negative ids still map to one of
 * the three ports.
 */
export const AGENT_PORT_COUNT = 3;
export const DEFAULT_AGENT_BASE_PORT = 8888;

export function agentPortIndex(modid: number, cmdid: number): number {
  return (((modid + cmdid) % AGENT_PORT_COUNT) + AGENT_PORT_COUNT) % AGENT_PORT_COUNT;
}

export function agentPort(basePort: number, modid: number, cmdid: number): number {
  return basePort + agentPortIndex(modid, cmdid);
}
