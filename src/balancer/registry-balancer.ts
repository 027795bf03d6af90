/**
 * The part of RouteBalancer every strategy answers the same way, from its
 * HostRegistry: reports, views, statistics. Strategies add pick and setHosts.
 */
import type { HostRegistry, TrackedHost } from './host-registry.js';
import type { HealthEvent, HostAddr, HostStats, HostView } from './types.js';

export abstract class RegistryBalancer<H extends TrackedHost> {
  protected abstract readonly registry: HostRegistry<H>;

  report(addr: HostAddr, ok: boolean, now: number): HealthEvent {
    return this.registry.report(addr, ok, now);
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
