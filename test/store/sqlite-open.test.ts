/**
 * Several processes creating one SQLite store at the same moment (`lars db
 * migrate` twice, or `lars up` beside a CLI command). Switching a new file to
 * WAL can meet another process's switch and fail at once with "database is
 * locked" instead of waiting. Two processes (fixtures/open-at.ts; one per core) open a
 * fresh file together, lined up on one instant, round after round; every
 * open must succeed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeArgs, REPO, TEST_COMPILED } from '../support/cli.js';

const ROUNDS = 30;
const GAP_MS = 60;
const PROCESSES = 2;
/** Long enough for every process to have loaded the store code (tsx compiles it first). */
const LINE_UP_MS = TEST_COMPILED ? 1500 : 4000;

function openAt(dir: string, startAt: number): Promise<string[]> {
  const args = [dir, String(startAt), String(ROUNDS), String(GAP_MS)];
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs('test/store/fixtures/open-at'), ...args], { cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve(err ? [`exited: ${err.message} ${stderr}`] : stdout.trim().split('\n')),
    );
  });
}

test(`${PROCESSES} processes opening a new SQLite store at the same instant all succeed (${ROUNDS} rounds)`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lars-sqlite-open-'));
  try {
    const startAt = Date.now() + LINE_UP_MS;
    const outcomes = await Promise.all(Array.from({ length: PROCESSES }, () => openAt(dir, startAt)));
    const failures = outcomes.flat().filter((line) => line !== 'ok');
    assert.deepEqual(failures, []);
    assert.equal(outcomes.flat().length, PROCESSES * ROUNDS);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
