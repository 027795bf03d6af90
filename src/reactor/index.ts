/** The reactor: the network layer every Lars service is built on. */
export * from './backoff.js';
export * from './config.js';
export * from './endpoint.js';
export * from './log.js';
export * from './metrics.js';
export * from './admin-http.js';
export { Router, RouteError, callHandler, type Route, type HandlerErrorSink } from './router.js';
export { DEFAULT_TCP_MAX_FRAME, TcpConnection, type ConnectionPolicy } from './connection.js';
export { TcpServer, type TcpServerOptions, type TcpMessageHandler, type ServerRegistration } from './tcp-server.js';
export * from './call-counter.js';
export * from './instance-load.js';
export * from './instance-registration.js';
export { TcpClient, type TcpClientOptions, type TcpClientHandler, type ReconnectOptions } from './tcp-client.js';
export { openUdpPort, chooseIo, describePeer, UdpBindError, DEFAULT_BUSY_POLL_US, type UdpPort, type UdpPortOptions, type UdpHandlers, type UdpPeer, type UdpIo } from './udp-port.js';
export { WorkerPool, startWorker, type WorkerPoolOptions } from './worker-pool.js';
