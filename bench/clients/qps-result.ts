/** The summary line bench/clients/qps.c prints last (one JSON object). */
export interface QpsResult {
  threads: number;
  depth: number;
  mode: 'loop' | 'gethost';
  spread: number;
  seconds: number;
  calls: number;
  qps: number;
  p50_us: number;
  p99_us: number;
  timeouts: number;
  not_succ: number;
  /** The client's own CPU time, from getrusage. */
  cpu_user_s: number;
  cpu_sys_s: number;
}
