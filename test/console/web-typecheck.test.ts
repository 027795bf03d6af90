import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { REPO } from '../support/cli.js';

// The browser code is plain JavaScript with JSDoc types; this keeps it honest.
test('the browser code type-checks (tsc -p src/console/web)', async () => {
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/console/web'], { cwd: REPO, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: stdout + stderr }),
    );
  });
  assert.equal(result.code, 0, result.output);
});
