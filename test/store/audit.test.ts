/** The console's audit trail (src/store/audit.ts) on every engine: record, list newest first with paging, bounded fields, prune by age. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../../src/store/audit.js';
import { forEachEngine } from '../support/engines.js';

await forEachEngine('audit trail', (store) => {
  let nowMs = 1_700_000_000_000;
  const audit = new AuditLog(store, { clock: () => nowMs });

  test('events come back newest first with their fields; before pages; long fields are cut to the column', async () => {
    await audit.record({ kind: 'login_failed', actor: null, subject: null, address: '10.1.1.1', detail: 'wrong user name or password' });
    nowMs += 1000;
    await audit.record({ kind: 'login', actor: 'alice', subject: 'alice', address: '10.1.1.1' });
    nowMs += 1000;
    await audit.record({ kind: 'user_added', actor: 'alice', subject: 'b'.repeat(100), detail: 'ü'.repeat(300) });
    const events = await audit.list({ limit: 3 });
    assert.deepEqual(events.map((e) => [e.kind, e.actor, e.at]), [['user_added', 'alice', 1_700_000_002], ['login', 'alice', 1_700_000_001], ['login_failed', null, 1_700_000_000]]);
    assert.deepEqual([events[0]!.subject?.length, [...events[0]!.detail].length, events[0]!.address], [64, 255, null]);
    assert.deepEqual(events[2], { id: events[2]!.id, at: 1_700_000_000, kind: 'login_failed', actor: null, subject: null, address: '10.1.1.1', detail: 'wrong user name or password' });
    assert.deepEqual((await audit.list({ before: events[1]!.id })).map((e) => e.kind), ['login_failed']);
  });

  test('prune deletes what is older than the retention and keeps the rest', async () => {
    nowMs += 10 * 86_400_000;
    await audit.record({ kind: 'logout', actor: 'alice', subject: 'alice' });
    assert.equal(await audit.prune(86_400), 3);
    assert.deepEqual((await audit.list()).map((e) => e.kind), ['logout']);
  });
});
