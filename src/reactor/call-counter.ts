/** Calls in flight, and a bounded wait for the last one to finish: what a draining server waits on. */
export class CallCounter {
  private count = 0;
  private onIdle: (() => void) | undefined;

  get inFlight(): number {
    return this.count;
  }

  begin(): void {
    this.count += 1;
  }

  end(): void {
    if (this.count === 0) throw new RangeError('end() without a begin()');
    this.count -= 1;
    if (this.count === 0) this.onIdle?.();
  }

  /** Resolves once no call is in flight, or after timeoutMs, whichever comes first. */
  idle(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.onIdle?.(), timeoutMs);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve();
      };
    });
  }
}
