/** The relay's tables are bounded: the oldest rows go first. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../../app/store/database.js';
import { SseEventsRepo, StreamLogsRepo, UrlHistoryRepo } from '../../../app/store/repos/relay-log.js';

test('stream_logs, url_history and sse_events keep at most about their limit', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-relay-'));
  const db = openDatabase(join(dir, 'cupola.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const logs = new StreamLogsRepo(db);
  const history = new UrlHistoryRepo(db);
  const events = new SseEventsRepo(db);
  for (let i = 0; i < 1000; i++) {
    logs.add('cam', 'info', `line ${i}`, 100);
    history.add(
      {
        stream_id: 'cam',
        old_rtsp_url: null,
        new_rtsp_url: `rtsp://c/${i}`,
        old_rtmp_url: null,
        new_rtmp_url: null,
        change_source: 'sse',
        event_id: String(i),
        switched: 0,
        gap_ms: null,
      },
      100,
    );
    const row = events.add({ eventId: String(i), type: 'url_update', data: '{}' }, 100);
    events.finish(row, 'applied', null);
  }
  const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  for (const table of ['stream_logs', 'url_history', 'sse_events']) assert.ok(count(table) <= 150, table);
  assert.equal(logs.recent('cam', 1)[0]!.message, 'line 999', 'the newest rows stay');
  assert.equal(events.lastEventId(), '999');
  assert.ok(events.processedBefore('999', -1));
  assert.ok(!events.processedBefore('3', -1), 'pruned ids are forgotten (the timestamp check still guards)');
});
