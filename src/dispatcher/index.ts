/** The least-connections TCP dispatcher (acl's master_dispatch). See docs/dispatcher.md. */
export { Dispatcher, type DispatcherOptions } from './dispatcher.js';
export {
  attachToDispatcher,
  attachFromEnvironment,
  DispatcherAttachment,
  type AttachOptions,
  type ConnectionTarget,
} from './attach.js';
export { Supervisor, WORKER_SLOT_ENV, type SupervisorOptions } from './supervisor.js';
export { requestStatus } from './status-client.js';
export { DISPATCH_SOCKET_ENV } from './protocol.js';
export { watchSupervisor, SUPERVISOR_PID_ENV } from './orphan-watch.js';
export { larsCommand, nodeCommand, CLI_ENTRY, ECHO_WORKER_ENTRY } from './entry-points.js';
export { serveLineEcho } from './line-echo.js';
export { LeastConnectionsPicker, type Candidate } from './picker.js';
export type { DispatchStatus, WorkerStatus } from './protocol.js';
