/**
 * Lars's probe rule, shared by every strategy, exactly as Lars's C++ agent
 * counts (docs/balancer.md): while some host is overloaded, a request whose
 * count has already reached probe_num goes to an overloaded host (so it can
 * prove it recovered) and restarts the count; any other request adds one
 * and takes an ordinary pick. So probe_num ordinary picks come between two
 * probes: one request in probe_num + 1 is a probe. Callers count only
 * requests made while some host is overloaded; the count is kept, neither
 * moved nor reset, while nothing is.
 */
export class ProbeCounter {
  private count = 0;

  constructor(private readonly probeNum: number) {}

  /** Counts one request; true when it is the probe. */
  due(): boolean {
    if (this.count >= this.probeNum) {
      this.count = 0;
      return true;
    }
    this.count++;
    return false;
  }
}
