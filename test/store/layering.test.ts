/**
 * Kysely stays inside src/store: everything above it reaches the tables
 * through the store's operation classes (docs/store.md), never through a
 * query builder or the store's handle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from '../support/cli.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

test('no source file outside src/store imports kysely or the store handle', () => {
  const src = join(REPO, 'src');
  const offenders = sourceFiles(src)
    .map((path) => relative(REPO, path))
    .filter((path) => !path.startsWith('src/store/'))
    .filter((path) => /from ['"]kysely['"]|\bkyselyOf\b/.test(readFileSync(join(REPO, path), 'utf8')));
  assert.deepEqual(offenders, []);
});
