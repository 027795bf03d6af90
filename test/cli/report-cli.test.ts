/**
 * `lars report ... [--duration-ms MS]` as an operator runs it: the real
 * command against a UDP socket standing in for the agent port of route
 * (1, 2), so the test sees the exact bytes each run sends; a bad duration is
 * a usage error that sends nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { lars, type Run } from '../support/cli.js';
import { hexBytes, waitFor } from '../support/net.js';

/** ReportRequest of 127.0.0.1:9000 for route (1, 2), SUCC: the frame without field 5 (a Lars client's bytes). */
const REPORT = '06 00 00 00  0f 00 00 00  08 01  10 02  1a 09 08 81 80 80 f8 07 10 a8 46';
/** The same with field 5, duration_us 1500 (docs/protocol.md). */
const TIMED_REPORT = '06 00 00 00  12 00 00 00  08 01  10 02  1a 09 08 81 80 80 f8 07 10 a8 46  28 dc 0b';

describe('lars report --duration-ms', () => {
  let socket: Socket;
  const datagrams: Buffer[] = [];
  let read = 0;
  const nextDatagram = async (): Promise<string> => {
    const datagram = await waitFor(() => datagrams[read], { message: 'a datagram from lars report' });
    read++;
    return datagram.toString('hex');
  };
  const report = (...extra: string[]) => lars(['report', '1', '2', '127.0.0.1', '9000', 'SUCC', '--agent', `127.0.0.1:${socket.address().port}`, ...extra]);

  before(async () => {
    socket = createSocket('udp4');
    socket.on('message', (datagram) => datagrams.push(datagram));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => socket.close(() => resolve())));

  test('sends the duration in whole µs; without the flag, the bytes a Lars client sends', async () => {
    const timed = await report('--duration-ms', '1.5');
    assert.equal(timed.code, 0, timed.stderr);
    assert.equal(timed.stdout, 'reported SUCC in 1.5 ms for 127.0.0.1:9000 of 1:2\n');
    assert.equal(await nextDatagram(), hexBytes(TIMED_REPORT).toString('hex'));

    const plain = await report('--json');
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((JSON.parse(plain.stdout) as { durationMs: number | null }).durationMs, null);
    assert.equal(await nextDatagram(), hexBytes(REPORT).toString('hex'));
  });

  test('a duration that is not a number of ms >= 0 is a usage error (exit 2, one line saying so) and sends nothing', async () => {
    const bad = ['abc', '-1', '1e3', '', '0x10', ' 5', 'Infinity', '9'.repeat(400)];
    const runs = await Promise.all([...bad.map((text) => report(`--duration-ms=${text}`)), report('--duration-ms')]);
    const usage = (run: Run, pattern: RegExp) => {
      assert.equal(run.code, 2, `stdout: ${run.stdout} stderr: ${run.stderr}`);
      assert.equal(run.stdout, '');
      assert.match(run.stderr.split('\n')[0]!, pattern);
    };
    bad.forEach((_, i) => usage(runs[i]!, /^lars report: --duration-ms must be a number of milliseconds >= 0 \(e\.g\. 12\.5\), got ".*"$/));
    usage(runs[bad.length]!, /^lars report: .*'--duration-ms <value>' argument missing/);

    const zero = await report('--duration-ms', '0', '--json');
    assert.equal(zero.code, 0, zero.stderr);
    assert.equal((JSON.parse(zero.stdout) as { durationMs: number }).durationMs, 0);
    assert.equal(await nextDatagram(), hexBytes(`${REPORT.replace('0f 00 00 00', '11 00 00 00')}  28 00`).toString('hex'), 'the first datagram since is this run\'s: 0 µs, sent');
  });
});
