import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOADBALANCE_PARAMS } from '../../src/balancer/params.js';
import { AGENT_CONFIG_SECTIONS } from '../../src/agent/config.js';
import { agentOptionsFromConfig } from '../../src/agent/service.js';
import { ConfigError, loadConfig } from '../../src/reactor/config.js';

const load = (text: string, overrides = {}) => loadConfig({ sections: AGENT_CONFIG_SECTIONS, text, env: {}, overrides });

const FILE = `
[agent]
dns = 10.0.0.1:7778, 10.0.0.2:7778
reporter = 10.0.0.3:7779
report_interval = 0.5
route_wait_ms = 0

[loadbalance]
probe_num = 20
init_succ_cnt = 100
init_err_cnt = 7
err_rate = 0.2
succ_rate = 0.6
contin_err_limit = 9
contin_succ_limit = 11
window_err_rate = 0.8
idle_timeout = 30
overload_timeout = 2.5
update_timeout = 60
strategy = consistent_hash
hash_vnodes = 50
hash_panic_threshold = 0.25
inflight_timeout = 4
`;

test('every [loadbalance] key and the [agent] keys reach the agent options', () => {
  const options = agentOptionsFromConfig(load(FILE));
  assert.deepEqual(options.dns, [
    { host: '10.0.0.1', port: 7778 },
    { host: '10.0.0.2', port: 7778 },
  ]);
  assert.deepEqual(options.reporter, [{ host: '10.0.0.3', port: 7779 }]);
  assert.equal(options.reportIntervalMs, 500);
  assert.equal(options.routeWaitMs, 0);
  assert.equal(options.udpHost, '127.0.0.1');
  assert.equal(options.udpBasePort, 8888);
  assert.deepEqual(options.loadbalance, {
    probe_num: 20,
    init_succ_cnt: 100,
    init_err_cnt: 7,
    err_rate: 0.2,
    succ_rate: 0.6,
    contin_err_limit: 9,
    contin_succ_limit: 11,
    window_err_rate: 0.8,
    idle_timeout: 30,
    overload_timeout: 2.5,
    update_timeout: 60,
    strategy: 'consistent_hash',
    hash_vnodes: 50,
    hash_panic_threshold: 0.25,
    inflight_timeout: 4,
  });
  // Every balancer key is a config key.
  assert.deepEqual(Object.keys(options.loadbalance!).sort(), Object.keys(DEFAULT_LOADBALANCE_PARAMS).sort());
});

test('defaults are Lars\'s; overrides (flags, --set) win over the file', () => {
  const options = agentOptionsFromConfig(load('[agent]\ndns = a:1\nreporter = b:2\n', { loadbalance: { probe_num: '5' }, agent: { udp_base_port: '9000' } }));
  assert.deepEqual(options.loadbalance, { ...DEFAULT_LOADBALANCE_PARAMS, probe_num: 5 });
  assert.equal(options.udpBasePort, 9000);
  assert.equal(options.reportIntervalMs, 1000);
});

test('bad values and unknown keys are errors naming the key', () => {
  const problems = (text: string, overrides = {}) => {
    try {
      load(text, overrides);
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
  };
  const base = '[agent]\ndns = a:1\nreporter = b:2\n';
  assert.match(problems(base + '[loadbalance]\nerr_rate = 2\n').join('\n'), /\[loadbalance\].*err_rate must be between 0 and 1, got 2/);
  assert.match(problems(base + '[loadbalance]\nprobe_num = 1.5\n').join('\n'), /probe_num must be an integer >= 1/);
  assert.match(problems(base + '[loadbalance]\nstrategy = random\n').join('\n'), /strategy must be one of lars, consistent_hash/);
  assert.match(problems(base + '[loadbalance]\nprobe_nmu = 3\n').join('\n'), /probe_nmu: unknown key/);
  assert.match(problems('[agent]\nreporter = b:2\n').join('\n'), /\[agent\] dns: required/);
  assert.match(problems(base, { agent: { dns: 'nohostport' } }).join('\n'), /\[agent\] dns: expected a comma-separated list of host:port/);
});
