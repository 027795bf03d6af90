import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_CONFIG_SECTIONS, AUTO_PORT_THREADS_MIN_CORES, loadBalanceSection, portThreads } from '../../src/agent/config.js';
import { DEFAULT_BUSY_POLL_US } from '../../src/reactor/udp-port.js';
import { startAgent } from '../../src/agent/service.js';
import { DEFAULT_LOADBALANCE_PARAMS, LOADBALANCE_FIELDS } from '../../src/balancer/params.js';
import { DEFAULT_AGENT_BASE_PORT } from '../../src/protocol/agent-ports.js';
import { configFrom, ConfigError, loadConfig } from '../../src/reactor/config.js';
import { captureLogs, unusedPort } from '../support/net.js';

const logs = captureLogs();
after(() => logs.restore());

const load = (text: string, overrides = {}) => loadConfig({ sections: AGENT_CONFIG_SECTIONS, text, env: {}, overrides });

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return [];
}

const FILE = `
[agent]
dns = 10.0.0.1:7778, 10.0.0.2:7778
reporter = 10.0.0.3:7779
report_interval_s = 0.5
route_wait_ms = 0
udp_recv_buffer_bytes = 0
threads = 3

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
eject_consecutive = 5
eject_base = 20
eject_max = 200
max_ejected_percent = 40
probe_interval = 1
probe_share = 0.001
probe_interval_max = 15
slow_start = 0
decay_time = 5

[reactor]
reconnect_initial_ms = 50
`;

test('every [agent] and [loadbalance] key is read from the file, typed', () => {
  const config = load(FILE);
  assert.deepEqual(config.agent.dns, [
    { host: '10.0.0.1', port: 7778 },
    { host: '10.0.0.2', port: 7778 },
  ]);
  assert.deepEqual(config.agent.reporter, [{ host: '10.0.0.3', port: 7779 }]);
  assert.equal(config.agent.report_interval_s, 0.5);
  assert.equal(config.agent.route_wait_ms, 0);
  assert.equal(config.agent.udp_recv_buffer_bytes, 0);
  assert.equal(config.agent.threads, '3');
  assert.equal(config.reactor.reconnect_initial_ms, 50);
  assert.deepEqual(config.loadbalance, {
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
    eject_consecutive: 5,
    eject_base: 20,
    eject_max: 200,
    max_ejected_percent: 40,
    probe_interval: 1,
    probe_share: 0.001,
    probe_interval_max: 15,
    slow_start: 0,
    decay_time: 5,
  });
});

test('[agent] threads: 1, 3 or auto (1 below AUTO_PORT_THREADS_MIN_CORES cores, else 3); anything else is refused by name', () => {
  const addresses = '[agent]\ndns = 10.0.0.1:7778\nreporter = 10.0.0.3:7779\n';
  assert.equal(load(addresses).agent.threads, 'auto');
  assert.equal(portThreads('auto', 1), 1);
  assert.equal(portThreads('auto', AUTO_PORT_THREADS_MIN_CORES - 1), 1);
  assert.equal(portThreads('auto', AUTO_PORT_THREADS_MIN_CORES), 3);
  assert.equal(portThreads('1', 64), 1);
  assert.equal(portThreads('3', 1), 3);
  const refused = problems(() => load(`${addresses}threads = 2\n`));
  assert.equal(refused.length, 1, refused.join('; '));
  assert.match(refused[0]!, /\[agent\] threads: expected one of auto, 1, 3, got "2"/);
});

test('[loadbalance] is the balancer\'s own fields: the same keys, defaults and rules, in one problem wording', () => {
  assert.equal(loadBalanceSection.fields, LOADBALANCE_FIELDS);
  const base = '[agent]\ndns = a:1\nreporter = b:2\n';
  assert.deepEqual(load(base).loadbalance, DEFAULT_LOADBALANCE_PARAMS);
  assert.deepEqual(problems(() => load(base + '[loadbalance]\nerr_rate = 2\nidle_timeout = 0\n')), [
    'config [loadbalance] err_rate: expected a number between 0 and 1, got "2" (from config text)',
    'config [loadbalance] idle_timeout: expected a number > 0, got "0" (from config text)',
  ]);
  assert.deepEqual(problems(() => load(base + '[loadbalance]\nstrategy = random\n')), [
    'config [loadbalance] strategy: expected one of lars, consistent_hash, weighted_round_robin, least_request, adaptive, least_load, got "random" (from config text)',
  ]);
});

test('defaults come from the constants of the code that uses them; overrides (flags, --set) win over the file', () => {
  const config = load('[agent]\ndns = a:1\nreporter = b:2\nudp_base_port = 7000\n', { loadbalance: { probe_num: '5' }, agent: { udp_base_port: '9000' } });
  assert.deepEqual(config.loadbalance, { ...DEFAULT_LOADBALANCE_PARAMS, probe_num: 5 });
  assert.equal(config.agent.udp_base_port, 9000);
  assert.equal(config.agent.report_interval_s, 1);
  const defaults = load('[agent]\ndns = a:1\nreporter = b:2\n').agent;
  assert.equal(defaults.udp_base_port, DEFAULT_AGENT_BASE_PORT);
  assert.equal(defaults.udp_busy_poll_us, DEFAULT_BUSY_POLL_US);
});

test('a loaded configuration is what startAgent reads: the code path gives it back unchanged', () => {
  const loaded = load(FILE);
  assert.deepEqual(configFrom(AGENT_CONFIG_SECTIONS, loaded), loaded);
});

test('renamed keys are unknown keys, and the error lists the new names', () => {
  const base = '[agent]\ndns = a:1\nreporter = b:2\n';
  const [interval] = problems(() => load(base + 'report_interval = 0.5\n'));
  assert.match(interval!, /^config \[agent\] report_interval: unknown key \(from config text\); known keys: .*\breport_interval_s\b/);
  const [reconnect] = problems(() => load(base, { reactor: { reconnectInitialMs: '50' } }));
  assert.match(reconnect!, /^config \[reactor\] reconnectInitialMs: unknown key \(from overrides\); known keys: .*\breconnect_initial_ms\b/);
  assert.match(problems(() => load('[agent]\nreporter = b:2\n')).join('\n'), /\[agent\] dns: required/);
  assert.match(problems(() => load(base, { agent: { dns: 'nohostport' } })).join('\n'), /\[agent\] dns: expected a comma-separated list of host:port/);
});

test('startAgent takes its sections from its options, checked like a file', async () => {
  const dead = await unusedPort();
  const addresses = { dns: [{ host: '127.0.0.1', port: dead }], reporter: [{ host: '127.0.0.1', port: dead }] };
  // An agent that starts anyway is closed, so a failing check does not leave its threads running.
  const refusal = (options: Parameters<typeof startAgent>[0]) =>
    startAgent(options).then(
      async (agent) => {
        await agent.close();
        return [];
      },
      (err: unknown) => (err instanceof ConfigError ? err.problems : [String(err)]),
    );
  assert.deepEqual(await refusal({ agent: { ...addresses, route_wait_ms: -1 } }), [
    'config [agent] route_wait_ms: expected an integer between 0 and 10000, got -1 (from overrides)',
  ]);
  assert.deepEqual(await refusal({ agent: { reporter: addresses.reporter } }), ['config [agent] dns: required, not set']);
  const agent = await startAgent({ agent: { ...addresses, udp_base_port: 0, caller: '10.1.2.3', udp_host: '127.0.0.1' } });
  try {
    assert.equal(agent.caller, '10.1.2.3');
    assert.equal(agent.host, '127.0.0.1');
    assert.equal(agent.ports.length, 3);
  } finally {
    await agent.close();
  }
});
