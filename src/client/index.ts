export * from './lars-client.js';
export * from './ports.js';
