/**
 * What an agent port does with requests and dns answers (src/agent/port-handlers.ts),
 * without sockets: the route wait on a real RouteTable, fake timers and a
 * clock the test moves, answers captured as the messages they would send.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PortTally } from '../../src/agent/port-counters.js';
import { PortHandlers } from '../../src/agent/port-handlers.js';
import { validateLoadBalanceParams } from '../../src/balancer/params.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { createLogger } from '../../src/reactor/log.js';
import { captureLogs, type LogCapture } from '../support/net.js';
import { UNTIMED } from '../balancer/helpers.js';
import { FakeTimers } from './helpers.js';

const HOST = { ip: 0x0a000001, port: 9001 };
const PARAMS = validateLoadBalanceParams({});

function setup(routeWaitMs = 200) {
  const timers = new FakeTimers();
  const tally = new PortTally();
  const pulls: string[] = [];
  const sent: { msgid: number; message: unknown; peer: unknown }[] = [];
  const handlers = new PortHandlers({
    params: PARAMS,
    maxUnknownRoutes: 100,
    routeWaitMs,
    pull: (modid, cmdid) => pulls.push(`${modid}/${cmdid}`),
    send: (msgid, message, peer) => sent.push({ msgid, message, peer }),
    tally,
    clock: () => timers.now,
    log: createLogger('test.port'),
    timers,
  });
  const getHost = (seq: number, modid = 1, cmdid = 2, peer = seq) =>
    handlers.request({ msgid: MsgId.GetHostRequest, message: { seq, modid, cmdid, key: '' } }, peer);
  const getRoute = (modid = 1, cmdid = 2, peer = 0) => handlers.request({ msgid: MsgId.ApiGetRouteRequest, message: { modid, cmdid } }, peer);
  const report = (modid: number, host: typeof HOST | null, durationUs: number | null = null) =>
    handlers.request({ msgid: MsgId.ReportRequest, message: { modid, cmdid: 2, host: host && { ...host, weight: 1 }, retcode: RetCode.SUCC, durationUs } }, 0);
  const retcodes = () => sent.filter((s) => s.msgid === MsgId.GetHostResponse).map((s) => (s.message as { seq: number; retcode: number }).retcode);
  return { timers, tally, pulls, sent, handlers, getHost, getRoute, report, retcodes };
}

describe('port handlers: the route wait', () => {
  let logs: LogCapture;
  before(() => {
    logs = captureLogs();
  });
  after(() => logs.restore());

  test('the first requests for a new route wait for dns and get its host', () => {
    const { tally, pulls, sent, handlers, getHost } = setup();
    getHost(1);
    getHost(2);
    assert.deepEqual(pulls, ['1/2'], 'one pull');
    assert.equal(sent.length, 0, 'both held');
    handlers.dnsAnswer(1, 2, [HOST]);
    assert.deepEqual(
      sent.map((s) => [s.peer, s.message]),
      [1, 2].map((seq) => [seq, { seq, modid: 1, cmdid: 2, retcode: RetCode.SUCC, host: HOST }]),
    );
    assert.deepEqual([tally.counts.getHost, tally.counts.waited, tally.counts.succ, tally.counts.waitExpired], [2, 2, 2, 0]);
  });

  test('when dns never answers, the held requests get NOEXIST after route_wait_ms and are counted as expired', () => {
    const { timers, tally, sent, getHost, getRoute, retcodes } = setup(200);
    getHost(1);
    getRoute();
    timers.advance(199);
    assert.equal(sent.length, 0);
    timers.advance(1);
    assert.deepEqual(retcodes(), [RetCode.NOEXIST]);
    assert.deepEqual(sent.find((s) => s.msgid === MsgId.ApiGetRouteResponse)?.message, { modid: 1, cmdid: 2, host: [] });
    assert.deepEqual([tally.counts.waited, tally.counts.waitExpired, tally.counts.noexist], [2, 2, 1]);
  });

  test('a request for a route already asked for and still unanswered is held only while others wait', () => {
    const { timers, sent, getHost, retcodes } = setup(200);
    getHost(1);
    timers.advance(200);
    getHost(2);
    assert.deepEqual(retcodes(), [RetCode.NOEXIST, RetCode.NOEXIST], 'the pull is not new: answered at once, as Lars');
    assert.equal(sent.length, 2);
  });

  test('dns lost: held requests are answered NOEXIST at once and new ones do not wait', () => {
    const { tally, handlers, getHost, retcodes } = setup(60_000);
    getHost(1);
    handlers.dnsState(false);
    assert.deepEqual(retcodes(), [RetCode.NOEXIST]);
    getHost(2, 2, 2);
    assert.deepEqual(retcodes(), [RetCode.NOEXIST, RetCode.NOEXIST]);
    assert.equal(tally.counts.waited, 1);
  });

  test('dns back: every known route is pulled again (re-subscribing it on the new connection)', () => {
    const { pulls, handlers, getHost } = setup(0);
    getHost(1, 1, 2);
    getHost(2, 4, 5);
    handlers.dnsAnswer(4, 5, [HOST]);
    pulls.length = 0;
    handlers.dnsState(true);
    assert.deepEqual(pulls.sort(), ['1/2', '4/5']);
  });

  test('stopping answers what is held', () => {
    const { handlers, getHost, retcodes } = setup(60_000);
    getHost(1);
    handlers.stop();
    assert.deepEqual(retcodes(), [RetCode.NOEXIST]);
  });

  test('a report counts; one for a route or host the port does not have is an unknown report', () => {
    const { tally, handlers, report } = setup(0);
    handlers.dnsAnswer(1, 2, [HOST]);
    report(1, HOST);
    report(7, HOST);
    report(1, { ...HOST, port: 1 });
    report(1, null);
    assert.deepEqual([tally.counts.report, tally.counts.unknownReports], [4, 3]);
    assert.deepEqual(handlers.takeStats().routes, [{ modid: 1, cmdid: 2, hosts: [{ ...HOST, succ: 1, err: 0, overload: false, ...UNTIMED }] }]);
  });

  test('a report\'s duration reaches the route\'s balancer as latencyMs (µs / 1000), none as unknown; timed reports are counted', () => {
    const { tally, handlers, report } = setup(0);
    handlers.dnsAnswer(1, 2, [HOST], 'adaptive');
    // The adaptive strategy's peak-EWMA estimate shows what it was handed; the clock does not move.
    const latency = () => handlers.routes()[0]!.hosts[0]!.latencyMs;
    assert.equal(latency(), null, 'no duration yet');
    report(1, HOST, 1500);
    assert.equal(latency(), 1.5);
    report(1, HOST);
    assert.equal(latency(), 1.5, 'a report without a duration leaves the estimate');
    report(1, HOST, 0xffffffff);
    assert.equal(latency(), 4294967.295, 'a peak replaces it at once');
    report(1, HOST, 0);
    report(7, HOST, 2000);
    report(1, null, 2000);
    assert.deepEqual([tally.counts.report, tally.counts.timedReport, tally.counts.unknownReports], [6, 5, 2], 'every report with a duration counts, known route or not');
    assert.deepEqual(handlers.takeStats().routes, [{ modid: 1, cmdid: 2, hosts: [{ ...HOST, succ: 4, err: 0, overload: false, timed: 3, durationUs: 1500 + 0xffffffff, maxDurationUs: 0xffffffff }] }], 'the reporter gets the durations of the known route\'s timed reports');
  });
});

describe("port handlers: the strategy a route's module names", () => {
  let logs: LogCapture;
  before(() => {
    logs = captureLogs();
  });
  after(() => logs.restore());

  const routeStatus = (handlers: PortHandlers, sent: { msgid: number; message: unknown }[]) => {
    handlers.request({ msgid: MsgId.RouteStatusRequest, message: { modid: 1, cmdid: 2 } }, 0);
    return (sent.filter((s) => s.msgid === MsgId.RouteStatusResponse).at(-1)!.message as { strategy: string | null }).strategy;
  };

  test('runs what dns names, shows it in the route view and route status, logs a switch; null is the agent default', () => {
    const mine = logs.since();
    const { handlers, sent } = setup(0);
    handlers.dnsAnswer(1, 2, [HOST], 'least_request');
    assert.equal(handlers.routes()[0]?.strategy, 'least_request');
    assert.equal(routeStatus(handlers, sent), 'least_request');
    handlers.dnsAnswer(1, 2, [HOST], null);
    assert.equal(routeStatus(handlers, sent), 'lars');
    assert.equal(mine.matching(/ info test\.port route_strategy modid=1 cmdid=2 from=least_request to=lars$/).length, 1);
  });

  test('a name this agent does not know: the default serves, counted and logged once per route', () => {
    const mine = logs.since();
    const { handlers, tally, sent, getHost, retcodes } = setup(0);
    for (let i = 0; i < 3; i++) handlers.dnsAnswer(1, 2, [HOST], 'adaptive_v9');
    handlers.dnsAnswer(4, 5, [HOST], 'adaptive_v9');
    assert.equal(routeStatus(handlers, sent), 'lars');
    getHost(1);
    assert.deepEqual(retcodes(), [RetCode.SUCC], 'the route serves');
    assert.equal(tally.counts.unknownStrategies, 2);
    assert.deepEqual(
      mine.matching('unknown_strategy').map((line) => line.replace(/^\S+ /, '')),
      [
        'warn test.port unknown_strategy modid=1 cmdid=2 strategy=adaptive_v9 using=lars',
        'warn test.port unknown_strategy modid=4 cmdid=5 strategy=adaptive_v9 using=lars',
      ],
    );
  });
});
