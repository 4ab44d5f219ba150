/** GET /api/v1/events over real HTTP: ids, resume with Last-Event-ID (header or query), reset, heartbeats, metrics. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { login, startCore, tempDir, type TestCore } from '../../helpers/core.js';
import { api, openSse, type SseFrame, type SseStream } from '../../helpers/http.js';

const HEARTBEAT_MS = 150;

let tc: TestCore;
let admin: string;
before(async () => {
  tc = await startCore(null, { heartbeatMs: HEARTBEAT_MS });
  admin = (await login(tc.url)).accessToken;
});
after(() => tc?.close());

const auth = () => ({ authorization: `Bearer ${admin}` });

async function createToken(name: string): Promise<string> {
  const res = await api(tc.url, '/api/v1/tokens', { token: admin, body: { name } });
  assert.equal(res.status, 201, res.text);
  return (res.json as { token: { id: string } }).token.id;
}

const tokenEvents = (s: SseStream) => s.frames.filter((f) => f.event === 'auth.token-created');
const dataOf = (f: SseFrame) => JSON.parse(f.data) as { id: number; type: string; data: { id: string; name: string } };

async function sseClients(): Promise<number> {
  const res = await api(tc.url, '/metrics', { token: admin });
  const m = /^cupola_sse_clients (\d+)$/m.exec(res.text);
  assert.ok(m, 'cupola_sse_clients missing from /metrics');
  return Number(m[1]);
}

test('events arrive live with increasing ids matching their data', async (t) => {
  const sse = await openSse(tc.url, '/api/v1/events', auth());
  t.after(() => sse.close());
  assert.equal(sse.status, 200);
  assert.match(String(sse.headers['content-type']), /^text\/event-stream/);
  await createToken('live-1');
  await createToken('live-2');
  await sse.waitFor((s) => tokenEvents(s).length === 2, 5000, 'two token events');
  const [a, b] = tokenEvents(sse) as [SseFrame, SseFrame];
  assert.ok(a.id && b.id, 'events carry an id: line');
  assert.ok(Number(b.id) > Number(a.id));
  assert.equal(dataOf(a).id, Number(a.id));
  assert.deepEqual([dataOf(a).data.name, dataOf(b).data.name], ['live-1', 'live-2']);
});

test('reconnecting with Last-Event-ID replays exactly the missed events, in order, without duplicates', async (t) => {
  const first = await openSse(tc.url, '/api/v1/events', auth());
  t.after(() => first.close());
  await createToken('seen');
  await first.waitFor((s) => tokenEvents(s).some((f) => dataOf(f).data.name === 'seen'), 5000, 'the "seen" event');
  const lastSeen = first.frames.filter((f) => f.id).at(-1)!.id!;
  first.close();
  await waitForClients(0);

  const missed = ['missed-1', 'missed-2', 'missed-3', 'missed-4'];
  for (const name of missed) await createToken(name);

  for (const how of ['header', 'query'] as const) {
    const sse =
      how === 'header'
        ? await openSse(tc.url, '/api/v1/events', { ...auth(), 'last-event-id': lastSeen })
        : await openSse(tc.url, `/api/v1/events?lastEventId=${lastSeen}`, auth());
    try {
      await sse.waitFor(
        (s) => tokenEvents(s).length >= missed.length,
        5000,
        `${missed.length} replayed events (${how})`,
      );
      await new Promise((r) => setTimeout(r, 300)); // anything extra (a duplicate) would arrive now
      const replayed = sse.frames.filter((f) => f.id);
      assert.deepEqual(
        replayed.map((f) => dataOf(f).data.name),
        missed,
        `${how}: exactly the missed events, in order`,
      );
      const ids = replayed.map((f) => Number(f.id));
      assert.equal(ids[0], Number(lastSeen) + 1, `${how}: replay starts right after Last-Event-ID`);
      assert.deepEqual(
        ids,
        ids.map((_, i) => ids[0]! + i),
        `${how}: consecutive ids`,
      );
      assert.ok(!sse.frames.some((f) => f.event === 'reset'));
    } finally {
      sse.close();
    }
  }
});

test('after the replay the stream continues live without repeating replayed events', async (t) => {
  const lastId = (await collectIds()).at(-1)!;
  await createToken('gap-1');
  const sse = await openSse(tc.url, '/api/v1/events', { ...auth(), 'last-event-id': String(lastId) });
  t.after(() => sse.close());
  await sse.waitFor((s) => tokenEvents(s).length === 1, 5000, 'replayed gap-1');
  await createToken('live-after');
  await sse.waitFor((s) => tokenEvents(s).length === 2, 5000, 'live-after');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(
    tokenEvents(sse).map((f) => dataOf(f).data.name),
    ['gap-1', 'live-after'],
  );
  const ids = sse.frames.filter((f) => f.id).map((f) => Number(f.id));
  assert.equal(new Set(ids).size, ids.length, 'no duplicate ids');
});

test('a Last-Event-ID older than the ring → event: reset, then what the ring still holds', async (t) => {
  // The smallest ring allowed (10), filled past its capacity.
  const small = await startCore(t, { flags: { 'api.eventHistory': '10' } });
  const token = (await login(small.url)).accessToken;
  for (let i = 0; i < 15; i++) {
    const res = await api(small.url, '/api/v1/tokens', { token, body: { name: `fill-${i}` } });
    assert.equal(res.status, 201);
  }
  const sse = await openSse(small.url, '/api/v1/events', { authorization: `Bearer ${token}`, 'last-event-id': '1' });
  t.after(() => sse.close());
  await sse.waitFor((s) => s.frames.filter((f) => f.id).length >= 10, 5000, 'reset and the ring');
  const [reset, ...rest] = sse.frames;
  assert.equal(reset!.event, 'reset', 'the first frame tells the client it missed events');
  const info = JSON.parse(reset!.data) as { oldestId: number; lastEventId: number };
  assert.equal(info.lastEventId, 1);
  assert.ok(info.oldestId > 2, `oldestId ${info.oldestId}`);
  const ids = rest.filter((f) => f.id).map((f) => Number(f.id));
  assert.equal(ids[0], info.oldestId);
  assert.equal(ids.length, 10, 'the whole ring follows the reset');
  assert.equal(dataOf(rest.at(-1)!).data.name, 'fill-14');
});

test('a Last-Event-ID from before a node restart (newer than anything this run has) → event: reset', async (t) => {
  // Ids restart at 1 with every process; an EventSource reconnecting after a restart sends the old, larger id.
  const dataDir = tempDir(t);
  const old = await startCore(t, { dataDir });
  const oldToken = (await login(old.url)).accessToken;
  for (let i = 0; i < 5; i++) await api(old.url, '/api/v1/tokens', { token: oldToken, body: { name: `old-${i}` } });
  const oldLast = old.core.bus.lastId;
  await old.close();
  const fresh = await startCore(t, { dataDir });
  const token = (await login(fresh.url)).accessToken;
  await api(fresh.url, '/api/v1/tokens', { token, body: { name: 'after-restart' } });
  assert.ok(fresh.core.bus.lastId < oldLast);
  const sse = await openSse(fresh.url, '/api/v1/events', {
    authorization: `Bearer ${token}`,
    'last-event-id': String(oldLast),
  });
  t.after(() => sse.close());
  await sse.waitFor((s) => s.frames.length > 0, 1000, 'a reset frame').catch(() => {});
  assert.equal(
    sse.frames[0]?.event,
    'reset',
    `the client would silently miss events of the new run; frames: ${JSON.stringify(sse.frames)}`,
  );
});

test('heartbeat comments arrive every heartbeatMs on an idle stream', async (t) => {
  const sse = await openSse(tc.url, '/api/v1/events', auth());
  t.after(() => sse.close());
  await sse.waitFor(
    (s) => s.comments.filter((c) => c.startsWith('ping')).length >= 3,
    HEARTBEAT_MS * 3 + 2000,
    'three : ping comments',
  );
  assert.ok(!sse.ended);
});

test('cupola_sse_clients counts open streams; stop() ends streams that are open', async (t) => {
  const base = await sseClients();
  const a = await openSse(tc.url, '/api/v1/events', auth());
  const b = await openSse(tc.url, '/api/v1/events', auth());
  t.after(() => {
    a.close();
    b.close();
  });
  await waitForClients(base + 2);
  a.close();
  await waitForClients(base + 1);
  b.close();
  await waitForClients(base);

  const own = await startCore(t);
  const token = (await login(own.url)).accessToken;
  const open = await openSse(own.url, '/api/v1/events', { authorization: `Bearer ${token}` });
  t.after(() => open.close());
  await own.core.stop();
  await open.waitFor((s) => s.ended, 3000, 'the stream to end on stop()');
  assert.ok(
    open.frames.some((f) => f.event === 'node.stopping'),
    'clients hear node.stopping before the stream ends',
  );
});

async function waitForClients(n: number): Promise<void> {
  const deadline = Date.now() + 3000;
  let last = -1;
  while (Date.now() < deadline) {
    last = await sseClients();
    if (last === n) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.fail(`cupola_sse_clients stayed at ${last}, expected ${n}`);
}

async function collectIds(): Promise<number[]> {
  const sse = await openSse(tc.url, '/api/v1/events', { ...auth(), 'last-event-id': '0' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    return sse.frames.filter((f) => f.id).map((f) => Number(f.id));
  } finally {
    sse.close();
  }
}
