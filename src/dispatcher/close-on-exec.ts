/**
 * Keeps descriptors that came through usocket out of child processes.
 * usocket creates its sockets and receives passed descriptors without
 * close-on-exec, so a worker that spawns a child would hand it the control
 * link and every client connection it holds: the client's connection would
 * then outlive the worker's close(), and the dispatcher would not see a dead
 * worker's link drop while the child lives. The lars_fd addon sets the flag;
 * without it (not built) this says so once and carries on.
 */
import { createLogger } from '../reactor/log.js';
import { loadNativeAddon } from '../reactor/native-addon.js';

interface LarsFdAddon {
  setCloseOnExec(fd: number): void;
}

const log = createLogger('dispatch');
let warned = false;

/** Sets FD_CLOEXEC on fd; false (logged once) when it cannot. */
export function keepFromChildren(fd: number): boolean {
  const loaded = loadNativeAddon<LarsFdAddon>('lars_fd');
  try {
    if (!('addon' in loaded)) throw new Error(loaded.reason);
    loaded.addon.setCloseOnExec(fd);
    return true;
  } catch (err) {
    if (!warned) {
      warned = true;
      log.warn('close_on_exec_unavailable', { err, effect: 'child processes of this worker inherit its dispatched connections' });
    }
    return false;
  }
}
