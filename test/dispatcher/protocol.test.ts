import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, parseStatus, parseToDispatcher, parseToWorker, ProtocolError } from '../../src/dispatcher/protocol.js';
import { Backoff } from '../../src/dispatcher/backoff.js';

test('lines are split across chunk boundaries', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(Buffer.from('{"type":"det')), []);
  assert.deepEqual(splitter.push(Buffer.from('ach"}\n{"type":"status"}\n{"ty')), ['{"type":"detach"}', '{"type":"status"}']);
  assert.deepEqual(splitter.push(Buffer.from('pe":"conn"}\n')), ['{"type":"conn"}']);
});

test('an endless line is a protocol error, not unbounded memory', () => {
  const splitter = new LineSplitter(16);
  assert.throws(() => splitter.push(Buffer.alloc(17, 'x')), ProtocolError);
});

test('worker messages are validated', () => {
  assert.deepEqual(parseToDispatcher('{"type":"hello","pid":42,"connections":3}'), { type: 'hello', pid: 42, connections: 3 });
  assert.deepEqual(parseToDispatcher('{"type":"load","connections":0,"received":7,"extra":1}'), {
    type: 'load',
    connections: 0,
    received: 7,
  });
  assert.throws(() => parseToDispatcher('{"type":"load","connections":-1,"received":0}'), /non-negative integer/);
  assert.throws(() => parseToDispatcher('{"type":"hello","pid":"x","connections":0}'), ProtocolError);
  assert.throws(() => parseToDispatcher('{"type":"shutdown"}'), /unknown message type/);
  assert.throws(() => parseToDispatcher('not json'), /not JSON/);
  assert.throws(() => parseToDispatcher('[1]'), /not an object/);
});

test('dispatcher messages and status replies are validated', () => {
  assert.deepEqual(parseToWorker('{"type":"welcome","id":3}'), { type: 'welcome', id: 3 });
  assert.deepEqual(parseToWorker('{"type":"conn"}'), { type: 'conn' });
  assert.throws(() => parseToWorker('{"type":"hello","pid":1,"connections":0}'), ProtocolError);
  const status = parseStatus(
    '{"pid":9,"listening":["127.0.0.1:1"],"workers":[{"pid":10,"connections":2}],"handedOver":5,"dropped":1,"openFds":20}',
  );
  assert.deepEqual(status.workers, [{ pid: 10, connections: 2 }]);
  assert.equal(status.handedOver, 5);
  assert.throws(() => parseStatus('{"pid":9}'), /no workers/);
});

test('backoff doubles up to its cap and starts over after a reset', () => {
  const backoff = new Backoff(100, 1000);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => backoff.next()), [100, 200, 400, 800, 1000]);
  backoff.reset();
  assert.equal(backoff.next(), 100);
});
