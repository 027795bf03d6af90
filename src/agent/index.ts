/** The load-balance agent: `startAgent` for the CLI and `lars up`, its config sections, its extension messages. */
export { startAgent, type Agent, type AgentOptions } from './service.js';
export { agentSection, loadBalanceSection, AGENT_CONFIG_SECTIONS } from './config.js';
export { AgentMsgId, type RouteStatus, type RouteStatusHost } from './extensions.js';
export { defaultCallerIp } from './caller.js';
