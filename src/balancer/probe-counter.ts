/**
 * Lars's probe rule, shared by every strategy: of the requests made while
 * some host is overloaded, every probe_num-th goes to an overloaded host so
 * it can prove it recovered. Callers count only such requests; the count is
 * kept, not reset, while nothing is overloaded (as Lars does).
 */
export class ProbeCounter {
  private count = 0;

  constructor(private readonly every: number) {}

  /** Counts one request; true on every `every`-th. */
  due(): boolean {
    if (++this.count < this.every) return false;
    this.count = 0;
    return true;
  }
}
