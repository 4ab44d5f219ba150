/** The relay's tables are bounded: the oldest rows go first; processed SSE event ids outlive their pruned rows. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { relaySchema } from '../../../app/config/relay.js';
import { EventBus } from '../../../app/events/bus.js';
import type { RelayContext } from '../../../app/relay/context.js';
import { SseIntake } from '../../../app/relay/sse-intake.js';
import { openDatabase } from '../../../app/store/database.js';
import { MIGRATIONS } from '../../../app/store/migrations.js';
import { EVENT_IDS_KEPT, SseEventsRepo, StreamLogsRepo, UrlHistoryRepo } from '../../../app/store/repos/relay-log.js';
import { Store } from '../../../app/store/store.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-relay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('stream_logs, url_history and sse_events keep at most about their limit', (t) => {
  const db = openDatabase(join(tempDir(t), 'cupola.db'));
  t.after(() => db.close());
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
    events.finish(row, 'applied', null, String(i), 100);
  }
  const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  for (const table of ['stream_logs', 'url_history', 'sse_events']) assert.ok(count(table) <= 150, table);
  assert.equal(logs.recent('cam', 1)[0]!.message, 'line 999', 'the newest rows stay');
  assert.equal(events.lastEventId(), '999');
  assert.ok(events.processedBefore('999'));
  assert.equal(
    events.recent(1000).find((e) => e.event_id === '3'),
    undefined,
    "event 3's row was pruned",
  );
  assert.ok(events.processedBefore('3'), 'its id is still known as processed');
  assert.ok(!events.processedBefore('1000'));
  const long = 'x'.repeat(5000);
  events.finish(events.add({ eventId: long, type: 'url_update', data: '{}' }, 100), 'applied', null, long, 100);
  assert.ok(events.processedBefore(long) && !events.processedBefore(`${long}y`), 'long ids are kept as a hash');
  const ids = db.prepare('SELECT max(length(event_id)) AS n FROM sse_event_ids').get() as { n: number };
  assert.ok(ids.n < 100, `a hash, not the 5000-character id (${ids.n})`);
});

test('the processed ids have their own bound, and never fewer than the events kept', (t) => {
  const db = openDatabase(join(tempDir(t), 'cupola.db'));
  t.after(() => db.close());
  assert.ok(EVENT_IDS_KEPT >= 100_000, 'by default far more ids than a control server replays');
  const events = new SseEventsRepo(db, 1000);
  const count = () => (db.prepare('SELECT count(*) AS n FROM sse_event_ids').get() as { n: number }).n;
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) events.finish(0, 'applied', null, `id-${i}`, 100);
  })();
  assert.ok(count() >= 1000 && count() <= 1050, `kept ${count()}`);
  assert.ok(!events.processedBefore('id-0'), 'the oldest ids go first');
  assert.ok(events.processedBefore('id-2000') && events.processedBefore('id-2999'));
  db.transaction(() => {
    for (let i = 3000; i < 3900; i++) events.finish(0, 'applied', null, i % 100 === 0 ? 'id-2000' : `id-${i}`, 100);
  })();
  assert.ok(events.processedBefore('id-2000'), 'an id seen again moves to the newest end');
  assert.ok(!events.processedBefore('id-2001'));
  db.transaction(() => {
    for (let i = 4000; i < 7000; i++) events.finish(0, 'applied', null, `id-${i}`, 2000);
  })();
  assert.ok(count() >= 2000 && count() <= 2050, `relay.retention.eventRows 2000: kept ${count()}`);
});

test('an event id received again after its row was pruned is not processed twice (SseIntake, real store)', async (t) => {
  const store = new Store(tempDir(t));
  store.start();
  t.after(() => store.stop());
  const config = relaySchema.parse({ retention: { eventRows: 100 } });
  const lines: string[] = [];
  const unused = () => assert.fail('not used by events that are no url_update');
  const ctx: RelayContext = {
    store,
    bus: new EventBus(),
    config: () => config,
    log: (_id, _level, message) => void lines.push(message),
    job: unused,
    plan: unused,
    probe: unused,
    serial: unused,
    switched: unused,
    view: unused,
  };
  const intake = new SseIntake(ctx);
  intake.received({ id: 'first', type: 'heartbeat', data: '{}' });
  for (let i = 0; i < 300; i++) intake.received({ id: `n${i}`, type: 'heartbeat', data: '{}' });
  await intake.idle();
  const rows = store.sseEvents.recent(1000);
  assert.ok(rows.length <= 150, `sse_events pruned to about its limit (${rows.length})`);
  assert.equal(
    rows.find((r) => r.event_id === 'first'),
    undefined,
    'the first row is gone',
  );
  intake.received({ id: 'first', type: 'heartbeat', data: '{}' });
  intake.received({ id: 'n299', type: 'heartbeat', data: '{}' });
  intake.received({ id: 'new', type: 'heartbeat', data: '{}' });
  await intake.idle();
  const outcomes = store.sseEvents
    .recent(3)
    .map((r) => `${r.event_id}:${r.outcome}`)
    .reverse();
  assert.deepEqual(outcomes, ['first:duplicate', 'n299:duplicate', 'new:ignored']);
  assert.equal(lines.filter((l) => /"first" received again: already processed/.test(l)).length, 1);
});

test('migration 6 carries the processed ids of existing sse_events rows over', (t) => {
  const file = join(tempDir(t), 'cupola.db');
  const old = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version <= 5) });
  const insert = old.prepare(
    'INSERT INTO sse_events (event_id, event_type, data, received_at, processed) VALUES (?, ?, ?, ?, ?)',
  );
  insert.run('done', 'url_update', '{}', 'now', 1);
  insert.run('pending', 'url_update', '{}', 'now', 0);
  old.close();
  const db = openDatabase(file);
  t.after(() => db.close());
  const events = new SseEventsRepo(db);
  assert.ok(events.processedBefore('done'));
  assert.ok(!events.processedBefore('pending'), 'an event never processed is processed when it comes again');
});
