/**
 * The lars-ts package API: the client business code uses, the reactor for
 * building servers on the Lars wire protocol, the balancers, the dispatcher's
 * worker side, and the services for embedding.
 */
export * from './client/index.js';
export * from './protocol/index.js';
export * as reactor from './reactor/index.js';
export * as balancer from './balancer/index.js';
export { attachToDispatcher, attachFromEnvironment, type DispatcherAttachment } from './dispatcher/index.js';
export { openStore, RouteAdmin, type Store } from './store/index.js';
export { startDns, type DnsService } from './dns/service.js';
export { startReporter, type Reporter } from './reporter/index.js';
export { startAgent, type Agent } from './agent/index.js';
export { startConsole, type ConsoleServer } from './console/server.js';
