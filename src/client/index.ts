export * from './lars-client.js';
export * from './agent-address.js';
export * from './register-instance.js';
