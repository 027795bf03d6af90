/** The load-balance agent: `startAgent` for the CLI and `lars up`, and its config sections. */
export { startAgent, type Agent, type AgentOptions } from './service.js';
export { agentSection, loadBalanceSection, AGENT_CONFIG_SECTIONS } from './config.js';
export { defaultCallerIp } from './caller.js';
