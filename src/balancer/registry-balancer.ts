/**
 * The part of RouteBalancer every strategy answers the same way, from its
 * HostRegistry: reports, views, statistics. Strategies add pick and setHosts.
 */
import type { HostRegistry, RegisteredHost } from './host-registry.js';
import type { HealthEvent, HostAddr, HostStats, HostView } from './types.js';

export abstract class RegistryBalancer<H extends RegisteredHost> {
  protected abstract readonly registry: HostRegistry<H>;

  report(addr: HostAddr, ok: boolean, now: number, latencyMs?: number): HealthEvent {
    return this.registry.report(addr, ok, now, latencyMs);
  }

  hosts(): HostView[] {
    return this.registry.views();
  }

  takeStats(): HostStats[] {
    return this.registry.takeStats();
  }

  isEmpty(): boolean {
    return this.registry.size === 0;
  }
}
