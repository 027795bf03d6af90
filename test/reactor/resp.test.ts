/** The RESP2 decoder and encoder the Redis change feed uses: replies split anywhere, nested arrays, errors, and bytes that are not RESP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand, RespDecoder, RespError, RespProtocolError } from '../../src/reactor/resp.js';

const REPLIES = Buffer.from('+OK\r\n:3\r\n$-1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$11\r\nl\u00e4rs\r\nx yz\r\n-ERR unknown command\r\n*0\r\n*2\r\n*1\r\n:-1\r\n$0\r\n\r\n');

function check(values: unknown[]): void {
  assert.equal(values.length, 7);
  assert.deepEqual(values.slice(0, 4), ['OK', 3, null, ['message', 'ch', 'l\u00e4rs\r\nx yz']]);
  assert.ok(values[4] instanceof RespError);
  assert.equal((values[4] as RespError).message, 'ERR unknown command');
  assert.deepEqual(values.slice(5), [[], [[-1], '']]);
}

test('decodes every kind of reply, whole or split at any byte', () => {
  check(new RespDecoder().push(REPLIES));
  for (let cut = 1; cut < REPLIES.length; cut += 1) {
    const decoder = new RespDecoder();
    check([...decoder.push(REPLIES.subarray(0, cut)), ...decoder.push(REPLIES.subarray(cut))]);
  }
});

test('bytes that are not RESP, or a reply past the bound, are a RespProtocolError', () => {
  assert.throws(() => new RespDecoder().push(Buffer.from('HTTP/1.1 400\r\n')), RespProtocolError);
  assert.throws(() => new RespDecoder().push(Buffer.from('$abc\r\n')), RespProtocolError);
  assert.throws(() => new RespDecoder().push(Buffer.from(':1.5\r\n')), RespProtocolError);
  assert.throws(() => new RespDecoder().push(Buffer.from('$3\r\nabcd\r\n')), RespProtocolError, 'bulk string longer than it said');
  assert.throws(() => new RespDecoder(16).push(Buffer.from('$100\r\n')), RespProtocolError, 'a length past the bound');
  assert.throws(() => new RespDecoder(16).push(Buffer.from('+' + 'a'.repeat(40))), RespProtocolError, 'a line that never ends');
});

test('commands are arrays of bulk strings, lengths in bytes', () => {
  assert.equal(encodeCommand(['PUBLISH', 'ch', 'l\u00e4rs']).toString(), '*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nl\u00e4rs\r\n');
});
