/** The pure merge of configured hosts and registered instances for people (served-hosts.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceInfo } from '../../src/store/registry.js';
import type { RouteHostInfo } from '../../src/store/route-admin.js';
import { instanceViews, servedHosts } from '../../src/store/served-hosts.js';

const host = (modid: number, ip: string, port: number, weight = 1): RouteHostInfo => ({ modid, cmdid: 1, ip, port, weight, drained: false, createdAt: 100, updatedAt: 200 });

function instance(modid: number, ip: string, port: number, overrideWeight: number | null = null): InstanceInfo {
  return {
    modid,
    cmdid: 1,
    ip,
    port,
    weight: overrideWeight ?? 4,
    registeredWeight: 4,
    overrideWeight,
    ttl: 3,
    lastHeartbeat: 300,
    registeredAt: 250,
    owner: 'dns-1',
    metadata: {},
    load: { inFlight: 1, connections: 1, cpuPermille: 10, score: 70 },
  };
}

test('servedHosts: configured and registered together in key order, ip compared as a number; a configured host wins at its address', () => {
  const served = servedHosts(
    [host(1, '10.0.0.9', 80), host(1, '10.0.0.1', 80), host(2, '10.0.0.1', 80)],
    [instance(1, '10.0.0.10', 80), instance(1, '10.0.0.9', 80), instance(1, '10.0.0.9', 81), instance(3, '9.0.0.1', 80)],
  );
  assert.deepEqual(
    served.map((h) => [h.modid, h.ip, h.port, h.weight, h.source, h.lastHeartbeat, h.load?.score ?? null]),
    [
      [1, '10.0.0.1', 80, 1, 'static', null, null],
      [1, '10.0.0.9', 80, 1, 'static', null, null],
      [1, '10.0.0.9', 81, 4, 'registered', 300, 70],
      [1, '10.0.0.10', 80, 4, 'registered', 300, 70],
      [2, '10.0.0.1', 80, 1, 'static', null, null],
      [3, '9.0.0.1', 80, 4, 'registered', 300, 70],
    ],
  );
  const registered = served.find((h) => h.source === 'registered')!;
  assert.deepEqual([registered.createdAt, registered.updatedAt], [250, 250], 'a registered instance was created and last changed when it registered');
});

test('instanceViews: every instance kept in order, marked drained (weight 0) and shadowed (a configured host at its address)', () => {
  const views = instanceViews([host(1, '10.0.0.1', 80)], [instance(1, '10.0.0.1', 80), instance(1, '10.0.0.2', 80, 0), instance(2, '10.0.0.1', 80, 6)]);
  assert.deepEqual(
    views.map((v) => [v.modid, v.ip, v.weight, v.source, v.drained, v.shadowed]),
    [
      [1, '10.0.0.1', 4, 'registered', false, true],
      [1, '10.0.0.2', 0, 'registered', true, false],
      [2, '10.0.0.1', 6, 'registered', false, false],
    ],
  );
});
