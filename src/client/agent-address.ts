/** `--agent HOST[:BASE_PORT]` of the client tools: where the agent's three UDP ports are. */
import { DEFAULT_AGENT_BASE_PORT } from '../protocol/agent-ports.js';

export interface AgentAddress {
  host: string;
  basePort: number;
}

export const DEFAULT_AGENT_ADDRESS = `127.0.0.1:${DEFAULT_AGENT_BASE_PORT}`;

/** "HOST", "HOST:BASE_PORT", "[v6]:BASE_PORT" or ":BASE_PORT"; throws a RangeError naming the input. */
export function parseAgentAddress(text: string): AgentAddress {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]*))(?::(\d{1,5}))?$/.exec(text.trim());
  const basePort = match?.[3] === undefined ? DEFAULT_AGENT_BASE_PORT : Number(match[3]);
  const host = match?.[1] ?? match?.[2] ?? '';
  if (!match || basePort < 1 || basePort > 65533) {
    throw new RangeError(`--agent must be HOST[:BASE_PORT] with BASE_PORT 1..65533, got ${JSON.stringify(text)}`);
  }
  return { host: host === '' ? '127.0.0.1' : host, basePort };
}
