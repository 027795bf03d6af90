/** Multi-row statements stay under each engine's bound-parameter limit (src/store/dialects/parameters.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BOUND_PARAMETERS, MAX_ROWS_PER_STATEMENT, statementChunks } from '../../src/store/dialects/parameters.js';

const rows = (count: number, columns: number) => Array.from({ length: count }, (_, i) => Object.fromEntries(Array.from({ length: columns }, (_, c) => [`c${c}`, i])));

test('statementChunks keeps every row, in order, and each statement under its engine\'s limit and the row cap', () => {
  for (const kind of ['sqlite', 'mysql', 'postgres'] as const) {
    for (const columns of [1, 8, 40]) {
      const input = rows(5000, columns);
      const chunks = statementChunks(kind, input);
      assert.deepEqual(chunks.flat(), input);
      for (const chunk of chunks) {
        assert.ok(chunk.length * columns <= MAX_BOUND_PARAMETERS[kind], `${kind}, ${columns} columns: ${chunk.length} rows`);
        assert.ok(chunk.length <= MAX_ROWS_PER_STATEMENT);
      }
    }
  }
  // 40 columns on SQLite: 32766 / 40 = 819 rows a statement.
  assert.deepEqual(statementChunks('sqlite', rows(2000, 40)).map((c) => c.length), [819, 819, 362]);
  assert.deepEqual(statementChunks('postgres', []), []);
});
