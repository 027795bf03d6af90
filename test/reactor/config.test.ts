import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bool,
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
  tcpServerLimits,
} from '../../src/reactor/config.js';
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
    assert.equal(config.reactor.maxConn, 1024);
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
        'maxConn = 100',
        'threadNum = 3',
      ].join('\n'),
    );
    const config = loadConfig({
      sections: [loadbalance, reactorSection],
      file,
      env: { LARS_LOADBALANCE_PROBE_NUM: '30', LARS_LOADBALANCE_ERR_RATE: '0.3', LARS_REACTOR_MAXCONN: '50' },
      overrides: { loadbalance: { probe_num: 40, err_rate: undefined } },
    });
    assert.equal(config.loadbalance.probe_num, 40, 'override beats env and file');
    assert.equal(config.loadbalance.err_rate, 0.3, 'env beats file; an undefined override is skipped');
    assert.equal(config.loadbalance.idle_timeout, 30, 'file beats default');
    assert.equal(config.reactor.maxConn, 50, 'env keys are upper-case');
    assert.equal(config.reactor.threadNum, 3);
    assert.equal(config.reactor.idleTimeout, 0, 'default');
    assert.equal(envName('reactor', 'maxConn'), 'LARS_REACTOR_MAXCONN');
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
    assert.match(problemsOf(() => loadConfig({ sections: [reactorSection], env: { LARS_REACTOR_MAXCONNS: '5' } }))[0]!, /unknown environment variable LARS_REACTOR_MAXCONNS/);
    assert.match(problemsOf(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { maxconn: 5 } } }))[0]!, /\[reactor\] maxconn: unknown key \(from overrides\)/);
    assert.match(problemsOf(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactr: { maxConn: 5 } } }))[0]!, /\[reactr\]: unknown section \(from overrides\)/);
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

  test('[reactor]: cross-field rule and the TcpServer options it gives', () => {
    assert.deepEqual(problemsOf(() => loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { reconnectInitialMs: 500, reconnectMaxMs: 100 } } })), [
      'config [reactor]: reconnectMaxMs (100) must be >= reconnectInitialMs (500)',
    ]);
    const { reactor } = loadConfig({ sections: [reactorSection], env: {}, overrides: { reactor: { idleTimeout: 30, maxConn: 8 } } });
    assert.deepEqual(tcpServerLimits(reactor), { maxConnections: 8, maxFrame: 4 * 1024 * 1024, idleTimeoutMs: 30_000, outputHighWater: 1024 * 1024 });
  });

  test('parseSettings turns section.key=value flags into overrides', () => {
    assert.deepEqual(parseSettings(['reactor.maxConn=5', 'loadbalance.err_rate=0.5', 'agent.store=a=b']), {
      reactor: { maxConn: '5' },
      loadbalance: { err_rate: '0.5' },
      agent: { store: 'a=b' },
    });
    assert.throws(() => parseSettings(['maxConn=5']), /expected section.key=value/);
  });

  test('a section whose default breaks its own rule is refused when defined', () => {
    assert.throws(() => defineSection('bad', { n: int({ default: 0, min: 1 }) }), /config \[bad\] n: default 0 is not an integer >= 1/);
  });
});
