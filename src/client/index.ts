export * from './lars-client.js';
export * from './ports.js';
export * from './agent-address.js';
