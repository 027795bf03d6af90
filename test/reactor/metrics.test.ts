/** The Prometheus text rendering of MetricsRegistry. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '../../src/reactor/metrics.js';

function samples(registry: MetricsRegistry): string[] {
  return registry.render().split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('MetricsRegistry', () => {
  test('counters and gauges render one sample per label set, labels sorted and escaped', () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter('lars_requests_total', 'Requests');
    requests.inc();
    requests.inc(2, { route: '1:2', kind: 'get' });
    requests.inc(1, { kind: 'get', route: '1:2' });
    const names = registry.gauge('lars_names', 'Names');
    names.set(3, { name: 'a"b\\c\nd' });
    assert.deepEqual(samples(registry), [
      'lars_requests_total 1',
      'lars_requests_total{kind="get",route="1:2"} 3',
      'lars_names{name="a\\"b\\\\c\\nd"} 3',
    ]);
    assert.match(registry.render(), /^# HELP lars_requests_total Requests\n# TYPE lars_requests_total counter\n/);
    assert.equal(requests.get({ route: '1:2', kind: 'get' }), 3);
  });

  test('a gauge series can be deleted; an empty gauge reads 0', () => {
    const registry = new MetricsRegistry();
    const connections = registry.gauge('lars_worker_connections', 'Per worker');
    connections.set(4, { worker: 1 });
    connections.add(2, { worker: 2 });
    connections.delete({ worker: 1 });
    assert.deepEqual(samples(registry), ['lars_worker_connections{worker="2"} 2']);
    connections.delete({ worker: 2 });
    connections.delete({ worker: 3 });
    assert.deepEqual(samples(registry), ['lars_worker_connections 0']);
  });

  test('a collected gauge asks its function at render time', () => {
    const registry = new MetricsRegistry();
    let depth = 1;
    registry.gauge('lars_queue_depth', 'Queue', () => depth);
    depth = 7;
    assert.deepEqual(samples(registry), ['lars_queue_depth 7']);
  });

  test('histogram buckets are cumulative, with +Inf, sum and count', () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram('lars_latency_ms', 'Latency', [1, 10]);
    for (const value of [0.5, 5, 5, 50]) latency.observe(value);
    assert.deepEqual(samples(registry), [
      'lars_latency_ms_bucket{le="1"} 1',
      'lars_latency_ms_bucket{le="10"} 3',
      'lars_latency_ms_bucket{le="+Inf"} 4',
      'lars_latency_ms_sum 60.5',
      'lars_latency_ms_count 4',
    ]);
  });

  test('registering a name twice shares the metric; another type is an error', () => {
    const registry = new MetricsRegistry();
    const first = registry.counter('lars_shared_total', 'Shared');
    assert.equal(registry.counter('lars_shared_total', 'Shared'), first);
    assert.throws(() => registry.gauge('lars_shared_total', 'Shared'), /already registered as a counter/);
  });
});
