import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bool,
  configFrom,
  ConfigError,
  defineSection,
  endpoints,
  envName,
  float,
  int,
  loadConfig,
  oneOf,
  parseSettings,
  reactorSection,
  str,
  tcpClientLimits,
  tcpServerLimits,
} from '../../src/reactor/config.js';
import { EndpointError, parseEndpoint, parseEndpointList } from '../../src/reactor/endpoint.js';
import { DEFAULT_RECONNECT } from '../../src/reactor/tcp-client.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_OUTPUT_HIGH_WATER, DEFAULT_TCP_MAX_FRAME } from '../../src/reactor/tcp-server.js';
import { captureLogs, type LogCapture } from '../support/net.js';

const loadbalance = defineSection('loadbalance', {
  probe_num: int({ default: 10, min: 1 }),
  err_rate: float({ default: 0.1, min: 0, max: 1 }),
  idle_timeout: int({ default: 15, min: 1 }),
});
const agent = defineSection('agent', {
  dns: endpoints({ default: [{ host: '127.0.0.1', port: 7778 }] }),
  strategy: oneOf(['lars', 'p2c'] as const, { default: 'lars' }),
  verbose: bool({ default: false }),
  store: str({ default: 'sqlite:./lars.db', nonEmpty: true }),
});

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  let logs: LogCapture;
  let dir: string;
  before(() => {
    logs = captureLogs();
    dir = mkdtempSync(join(tmpdir(), 'lars-config-'));
  });
  after(() => {
    logs.restore();
    rmSync(dir, { recursive: true, force: true });
  });

  test('defaults when nothing is set, typed per field', () => {
    const config = loadConfig({ sections: [loadbalance, agent, reactorSection], env: {} });
    const probes: number = config.loadbalance.probe_num;
    assert.equal(probes, 10);
    assert.equal(config.loadbalance.err_rate, 0.1);
    assert.deepEqual(config.agent.dns, [{ host: '127.0.0.1', port: 7778 }]);
    assert.equal(config.agent.strategy, 'lars');
    assert.equal(config.reactor.max_conn, 1024);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.reactor));
  });

  test('precedence: overrides > env > file > defaults', () => {
    const file = join(dir, 'lars.conf');
    writeFileSync(
      file,
      [
        '; Lars style',
        '[loadbalance]',
        'probe_num = 20',
        'err_rate = 0.2',
        'idle_timeout = 30',
        '',
        '[reactor]',
        'max_conn = 100',
        'reconnect_max_ms = 3000',
      ].join('\n'),
    );
    const config = loadConfig({
      sections: [loadbalance, reactorSection],
      file,
      env: { LARS_LOADBALANCE_PROBE_NUM: '30', LARS_LOADBALANCE_ERR_RATE: '0.3', LARS_REACTOR_MAX_CONN: '50' },
      overrides: { loadbalance: { probe_num: 40, err_rate: undefined } },
    });
    assert.equal(config.loadbalance.probe_num, 40, 'override beats env and file');
    assert.equal(config.loadbalance.err_rate, 0.3, 'env beats file; an undefined override is skipped');
    assert.equal(config.loadbalance.idle_timeout, 30, 'file beats default');
    assert.equal(config.reactor.max_conn, 50, 'env keys are upper-case');
    assert.equal(config.reactor.reconnect_max_ms, 3000);
    assert.equal(config.reactor.idle_timeout_s, 120, 'default');
    assert.equal(envName('reactor', 'max_conn'), 'LARS_REACTOR_MAX_CONN');
  });

  test('an invalid value names section, key, expectation, value and source', () => {
    assert.deepEqual(
      problemsOf(() => loadConfig({ sections: [loadbalance], text: '[loadbalance]\nprobe_num = abc\n', env: {} })),
      ['config [loadbalance] probe_num: expected an integer >= 1, got "abc" (from config text)'],
    );
    const problems = problemsOf(() =>
      loadConfig({
        sections: [loadbalance, agent],
        env: { LARS_LOADBALANCE_ERR_RATE: '1.5', LARS_AGENT_DNS: 'localhost' },
        overrides: { loadbalance: { probe_num: 0 }, agent: { strategy: 'random', verbose: 'maybe' } },
      }),
    );
    assert.deepEqual(problems, [
      'config [loadbalance] probe_num: expected an integer >= 1, got 0 (from overrides)',
      'config [loadbalance] err_rate: expected a number between 0 and 1, got "1.5" (from env LARS_LOADBALANCE_ERR_RATE)',
      'config [agent] dns: expected a comma-separated list of host:port, got "localhost" (from env LARS_AGENT_DNS)',
      'config [agent] strategy: expected one of lars, p2c, got "random" (from overrides)',
      'config [agent] verbose: expected a boolean (true/false, yes/no, on/off, 1/0), got "maybe" (from overrides)',
    ]);
  });

  test('non-integers, non-numbers and blanks are refused', () => {
    for (const bad of ['1.5', '', ' ', '1e3', '0x10', '10abc']) {
      const problems = problemsOf(() => loadConfig({ sections: [loadbalance], env: { LARS_LOADBALANCE_PROBE_NUM: bad } }));
      assert.match(problems[0]!, /probe_num: expected an integer >= 1/, JSON.stringify(bad));
    }
    const ok = loadConfig({ sections: [loadbalance], env: { LARS_LOADBALANCE_ERR_RATE: '.5', LARS_LOADBALANCE_PROBE_NUM: ' 7 ' } });
    assert.deepEqual([ok.loadbalance.err_rate, ok.loadbalance.probe_num], [0.5, 7]);
  });

  test('an unknown key in a known section is an error (typo protection), from any source', () => {
    assert.deepEqual(problemsOf(() => loadConfig({ sections: [loadbalance], text: '[loadbalance]\nprobe_nmu = 3\n', env: {} })), [
      'config [loadbalance] probe_nmu: unknown key (from config text); known keys: probe_num, err_rate, idle_timeout',
    ]);
    assert.match(problemsOf(() => loadConfig({ sections: [reactorSection], env: { LARS_REACTOR_MAX_CONNS: '5' } }))[0]!, /unknown environment variable LARS_REACTOR_MAX_CONNS/);
    assert.match(problemsOf(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { maxconn: 5 } } }))[0]!, /\[reactor\] maxconn: unknown key \(from overrides\)/);
    assert.match(problemsOf(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactr: { max_conn: 5 } } }))[0]!, /\[reactr\]: unknown section \(from overrides\)/);
  });

  test('an unknown section in the file is ignored with a warning; so is a key outside any section', () => {
    const config = loadConfig({ sections: [loadbalance], text: 'stray = 1\n[mysql]\nhost = x\n[loadbalance]\nprobe_num = 3\n', env: {} });
    assert.equal(config.loadbalance.probe_num, 3);
    assert.equal(logs.matching(/warn config unknown_config_section_ignored section=mysql source="config text"/).length, 1);
    assert.equal(logs.matching(/warn config config_key_outside_section_ignored key=stray/).length, 1);
  });

  test('a field without a default must be set', () => {
    const store = defineSection('store', { url: str({ nonEmpty: true }) });
    assert.deepEqual(problemsOf(() => loadConfig({ sections: [store], env: {} })), ['config [store] url: required, not set']);
    assert.equal(loadConfig({ sections: [store], env: { LARS_STORE_URL: 'sqlite::memory:' } }).store.url, 'sqlite::memory:');
  });

  test('a missing file is an error naming the file', () => {
    const missing = join(dir, 'missing.conf');
    assert.match(problemsOf(() => loadConfig({ sections: [loadbalance], file: missing, env: {} }))[0]!, new RegExp(`config file ${missing}: ENOENT`));
  });

  test('INI quirks: a bare key, booleans, quotes, inline comments, subsections', () => {
    const config = loadConfig({
      sections: [agent],
      text: '[agent]\nverbose\nstore = "mysql://root@127.0.0.1/lars"\ndns = 10.0.0.1:7778, 10.0.0.2:7778 ; two dns\n',
      env: {},
    });
    assert.equal(config.agent.verbose, true);
    assert.equal(config.agent.store, 'mysql://root@127.0.0.1/lars');
    assert.deepEqual(config.agent.dns, [
      { host: '10.0.0.1', port: 7778 },
      { host: '10.0.0.2', port: 7778 },
    ]);
    assert.match(problemsOf(() => loadConfig({ sections: [loadbalance], text: '[loadbalance.x]\ny = 1\n', env: {} }))[0]!, /\[loadbalance\] x: unknown key/);
  });

  test('[reactor]: cross-field rule and the TcpServer and TcpClient options it gives', () => {
    assert.deepEqual(problemsOf(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { reconnect_initial_ms: 500, reconnect_max_ms: 100 } } })), [
      'config [reactor]: reconnect_max_ms (100) must be >= reconnect_initial_ms (500)',
    ]);
    assert.deepEqual(problemsOf(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { idle_timeout_s: 30 } } })), [
      'config [reactor]: idle_timeout_s (30) must be at least twice keepalive_interval_ms (30000), or idle links of healthy clients are cut',
    ]);
    assert.doesNotThrow(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { idle_timeout_s: 30, keepalive_interval_ms: 0 } } }), 'no keepalives: the operator chose');
    const { reactor } = loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { idle_timeout_s: 60, max_conn: 8, reconnect_initial_ms: 7 } } });
    assert.deepEqual(tcpServerLimits(reactor), { maxConnections: 8, maxConnectionsPerPeer: 256, frameDeadlineMs: 10_000, maxFrame: 4 * 1024 * 1024, idleTimeoutMs: 60_000, outputHighWater: 1024 * 1024, authTokens: [], authTimeoutMs: 5000 });
    assert.deepEqual(tcpClientLimits(reactor), { maxFrame: 4 * 1024 * 1024, reconnect: { initialMs: 7, maxMs: 5000 }, keepaliveMs: 30_000 });
  });

  test('parseSettings turns section.key=value flags into overrides', () => {
    assert.deepEqual(parseSettings(['reactor.max_conn=5', 'loadbalance.err_rate=0.5', 'agent.store=a=b']), {
      reactor: { max_conn: '5' },
      loadbalance: { err_rate: '0.5' },
      agent: { store: 'a=b' },
    });
    assert.throws(() => parseSettings(['max_conn=5']), /expected section.key=value/);
  });

  test('a section whose default breaks its own rule is refused when defined', () => {
    assert.throws(() => defineSection('bad', { n: int({ default: 0, min: 1 }) }), /config \[bad\] n: default 0 is not an integer >= 1/);
  });

  test('section and key names are snake_case: anything else is refused when defined', () => {
    assert.throws(() => defineSection('bad', { maxConn: int({ default: 1 }) }), /config \[bad\] "maxConn": key names are snake_case/);
    assert.throws(() => defineSection('bad', { max__conn: int({ default: 1 }) }), /key names are snake_case/);
    assert.throws(() => defineSection('Bad', {}), /section name must be snake_case/);
    assert.doesNotThrow(() => defineSection('ok', { udp_busy_poll_us: int({ default: 1 }), x2: int({ default: 1 }) }));
  });

  test('renamed [reactor] keys are read from the file, the environment and --set; old names give an unknown-key error naming the new ones', () => {
    const fromFile = loadConfig({ sections: [reactorSection], text: '[reactor]\nmax_conn = 7\nidle_timeout_s = 90\n', env: {} });
    assert.deepEqual([fromFile.reactor.max_conn, fromFile.reactor.idle_timeout_s], [7, 90]);
    assert.equal(loadConfig({ sections: [reactorSection], env: { LARS_REACTOR_MAX_CONN: '8' } }).reactor.max_conn, 8);
    assert.equal(loadConfig({ sections: [reactorSection], env: {}, overrides: parseSettings(['reactor.max_conn=9']) }).reactor.max_conn, 9);
    const known = 'known keys: max_conn, max_frame_bytes, max_conn_per_peer, frame_deadline_ms, idle_timeout_s, keepalive_interval_ms, output_high_water_bytes, reconnect_initial_ms, reconnect_max_ms, auth_tokens, auth_timeout_ms, auth_token';
    assert.deepEqual(problemsOf(() => loadConfig({ sections: [reactorSection], text: '[reactor]\nmaxConn = 7\nthreadNum = 3\nmaxQueue = 10\n', env: {} })), [
      `config [reactor] maxConn: unknown key (from config text); ${known}`,
      `config [reactor] threadNum: unknown key (from config text); ${known}`,
      `config [reactor] maxQueue: unknown key (from config text); ${known}`,
    ]);
    assert.deepEqual(problemsOf(() => loadConfig({ sections: [reactorSection], env: { LARS_REACTOR_MAXCONN: '5' } })), [
      `config [reactor]: unknown environment variable LARS_REACTOR_MAXCONN; ${known}`,
    ]);
  });

  test('[reactor] defaults are the constants TcpServer and TcpClient use themselves', () => {
    const { reactor } = configFrom([reactorSection]);
    assert.equal(reactor.max_conn, DEFAULT_MAX_CONNECTIONS);
    assert.equal(reactor.max_frame_bytes, DEFAULT_TCP_MAX_FRAME);
    assert.equal(reactor.output_high_water_bytes, DEFAULT_OUTPUT_HIGH_WATER);
    assert.deepEqual({ initialMs: reactor.reconnect_initial_ms, maxMs: reactor.reconnect_max_ms }, DEFAULT_RECONNECT);
  });

  test('configFrom: values from code, checked like a file; the environment is not read', () => {
    const config = configFrom([agent, loadbalance], { agent: { dns: [{ host: '10.0.0.9', port: 1 }], verbose: true }, loadbalance: { probe_num: 12 } });
    assert.deepEqual(config.agent.dns, [{ host: '10.0.0.9', port: 1 }]);
    assert.equal(config.agent.verbose, true);
    assert.equal(config.loadbalance.probe_num, 12);
    assert.equal(config.loadbalance.err_rate, 0.1, 'default');
    assert.deepEqual(configFrom([agent], config), { agent: config.agent }, 'a loaded config passes unchanged; other sections are not read');
    assert.deepEqual(problemsOf(() => configFrom([agent], { agent: { dns: [{ host: '', port: 1 }] } })), [
      'config [agent] dns: expected a comma-separated list of host:port, got [{"host":"","port":1}] (from overrides)',
    ]);
    process.env.LARS_LOADBALANCE_PROBE_NUM = '99';
    try {
      assert.equal(configFrom([loadbalance]).loadbalance.probe_num, 10);
    } finally {
      delete process.env.LARS_LOADBALANCE_PROBE_NUM;
    }
  });

  test('a section listed by two services a program runs is read once', () => {
    const problems = problemsOf(() => loadConfig({ sections: [reactorSection, loadbalance, reactorSection], text: '[reactor]\nmax_conns = 1\n', env: {} }));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.deepEqual(Object.keys(loadConfig({ sections: [reactorSection, loadbalance, reactorSection], env: {} })), ['reactor', 'loadbalance']);
    const impostor = defineSection('reactor', { max_conn: int({ default: 1 }) });
    assert.throws(() => loadConfig({ sections: [reactorSection, impostor], env: {} }), /two different sections have the same name/);
  });
});

describe('endpoints', () => {
  test('HOST:PORT, [v6]:PORT; with a default host also :PORT and PORT', () => {
    assert.deepEqual(parseEndpoint('10.0.0.1:7778'), { host: '10.0.0.1', port: 7778 });
    assert.deepEqual(parseEndpoint(' [::1]:80 '), { host: '::1', port: 80 });
    assert.deepEqual(parseEndpoint(':0', '0.0.0.0'), { host: '0.0.0.0', port: 0 });
    assert.deepEqual(parseEndpoint('8080', '127.0.0.1'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseEndpointList('a:1,, b:2'), [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
  });

  test('anything else is an EndpointError saying what was expected', () => {
    assert.throws(() => parseEndpoint('8080'), (err) => err instanceof EndpointError && err.message === 'expected HOST:PORT, got "8080"');
    assert.throws(() => parseEndpoint('localhost', '127.0.0.1'), { name: 'EndpointError', message: 'expected HOST:PORT, got "localhost"' });
    assert.throws(() => parseEndpoint('a:65536'), { name: 'EndpointError', message: 'port out of range in "a:65536"' });
  });
});
