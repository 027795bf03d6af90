/**
 * Processes started by the supervisor stop when it is gone, even when it
 * died by SIGKILL and could not stop them: once this process is re-parented,
 * onOrphaned runs (once).
 */
export const SUPERVISOR_PID_ENV = 'LARS_DISPATCH_SUPERVISOR_PID';

export function watchSupervisor(onOrphaned: () => void, intervalMs = 1000): () => void {
  const supervisor = Number(process.env[SUPERVISOR_PID_ENV]);
  if (!supervisor) return () => undefined;
  const timer = setInterval(() => {
    if (process.ppid === supervisor) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
