import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../src/reactor/worker-pool.js';
import { captureLogs, waitFor, type LogCapture } from '../support/net.js';
import type * as Tasks from './fixtures/pool-tasks.js';

const tasksModule = new URL('./fixtures/pool-tasks.js', import.meta.url);

describe('WorkerPool', () => {
  let logs: LogCapture;
  let pool: WorkerPool<typeof Tasks>;
  before(async () => {
    logs = captureLogs();
    pool = new WorkerPool<typeof Tasks>({ name: 'test_pool', module: tasksModule, size: 2 });
    await waitFor(() => pool.readyWorkers === 2, { message: 'both workers to load' });
  });
  after(async () => {
    await pool.close();
    logs.restore();
  });

  test('runs more tasks than workers, each result to its caller', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('square', i)));
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i * i));

    const echoes = await Promise.all(['a', 'b', 'c', 'd'].map((value) => pool.run('slowEcho', { value, ms: 20 })));
    assert.deepEqual(echoes.map((e) => e.value), ['a', 'b', 'c', 'd']);
    assert.equal(new Set(echoes.map((e) => e.thread)).size, 2, 'both workers took work');
  });

  test('a task that throws rejects its promise with the error; the pool goes on', async () => {
    await assert.rejects(pool.run('fail', 'bad input'), (err: Error) => err.name === 'TypeError' && err.message === 'bad input');
    assert.equal(await pool.run('square', 3), 9);
  });

  test('a result that cannot be cloned rejects, and so does an unknown task', async () => {
    await assert.rejects(pool.run('unsendable', undefined), /could not be cloned/);
    await assert.rejects(pool.run('nope' as 'square', 1), /no task named "nope"/);
  });

  test('a worker that exits mid-task rejects that task and is replaced', async () => {
    const before = new Set(await Promise.all([pool.run('slowEcho', { value: 'x', ms: 30 }), pool.run('slowEcho', { value: 'y', ms: 30 })]).then((r) => r.map((e) => e.thread)));
    await assert.rejects(pool.run('exitWorker', 3), /worker died \(exit code 3\) while running task exitWorker/);
    await logs.waitFor(/warn test_pool worker_replaced cause="exit code 3"/);
    await waitFor(() => pool.readyWorkers === 2, { message: 'the replacement worker' });
    const after = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run('slowEcho', { value: String(i), ms: 20 })));
    const threads = new Set(after.map((e) => e.thread));
    assert.equal(threads.size, 2, 'still two workers');
    assert.ok([...threads].some((t) => !before.has(t)), 'one of them is new');
  });

  test('a worker killed by an uncaught error rejects its task with that error and is replaced', async () => {
    await assert.rejects(pool.run('throwLater', 'kaboom'), /worker died \(kaboom\) while running task throwLater/);
    await waitFor(() => pool.readyWorkers === 2, { message: 'the replacement worker' });
    assert.deepEqual(await Promise.all([pool.run('square', 4), pool.run('square', 5)]), [16, 25]);
  });

  test('close() rejects queued tasks, lets running ones finish, and refuses new ones', async () => {
    const own = new WorkerPool<typeof Tasks>({ name: 'closing_pool', module: tasksModule, size: 1 });
    const running = own.run('slowEcho', { value: 'running', ms: 100 });
    await waitFor(() => own.running === 1, { message: 'the worker to take the first task' });
    const queued = own.run('square', 2);
    const closed = own.close();
    await assert.rejects(queued, /pool closed before the task ran/);
    assert.equal((await running).value, 'running');
    await closed;
    await assert.rejects(own.run('square', 1), /pool is closed/);
  });

  test('a task over taskTimeoutMs is rejected and its worker replaced; other tasks are untouched', async () => {
    const timed = new WorkerPool<typeof Tasks>({ name: 'timed_pool', module: tasksModule, size: 2, taskTimeoutMs: 300 });
    try {
      await waitFor(() => timed.readyWorkers === 2, { message: 'both workers to load' });
      const stuck = timed.run('spin', 60_000);
      const quick = timed.run('slowEcho', { value: 'in time', ms: 20 });
      await assert.rejects(stuck, /timed_pool: task spin timed out after 300 ms; its worker is replaced/);
      assert.equal((await quick).value, 'in time');
      await logs.waitFor(/warn timed_pool worker_replaced cause="terminated: task spin ran over 300 ms"/);
      await waitFor(() => timed.readyWorkers === 2, { message: 'the replacement worker' });
      assert.deepEqual(await Promise.all([timed.run('square', 6), timed.run('square', 7)]), [36, 49]);
      assert.throws(() => new WorkerPool({ name: 'bad', module: tasksModule, size: 1, taskTimeoutMs: 0 }), /taskTimeoutMs must be > 0/);
    } finally {
      await timed.close();
    }
  });

  test('a task run right after a timeout waits for the replacement instead of going to the worker being terminated', async () => {
    const single = new WorkerPool<typeof Tasks>({ name: 'single_pool', module: tasksModule, size: 1, taskTimeoutMs: 200 });
    try {
      await waitFor(() => single.readyWorkers === 1, { message: 'the worker to load' });
      await assert.rejects(single.run('spin', 60_000), /timed out after 200 ms/);
      assert.equal(await single.run('square', 4), 16);
    } finally {
      await single.close();
    }
  });

  test('a task module that fails to load rejects tasks with the cause instead of respawning forever', async () => {
    const broken = new WorkerPool({ name: 'broken_pool', module: new URL('./fixtures/broken-tasks.js', import.meta.url), size: 2 });
    try {
      await assert.rejects(broken.run('anything', undefined as never), /worker failed to start: this task module cannot load/);
      await logs.waitFor(/error broken_pool worker_start_failed/);
      await assert.rejects(broken.run('anything', undefined as never), /worker failed to start/);
    } finally {
      await broken.close();
    }
  });
});
