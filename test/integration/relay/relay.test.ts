/**
 * The dynamic stream controller against real peers on loopback: a core (master role) whose relay forwards an RTSP
 * source (ffmpeg test patterns published to an in-process RTSP server: 320x240 on cam-a, 640x360 on cam-b) to an
 * RTMP ingest, while a plain-HTTP SSE server plays the control server. The tests run in order on one core and follow
 * the acceptance list: SSE switch, reconnect/duplicates/heartbeat, the seed's config route, hostile input,
 * a camera that goes away and comes back, and make-before-break to a new destination.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BusEvent } from '../../../app/defs/events.js';
import type { RelayStreamView, SseEventRecord, StreamLogRecord, UrlHistoryRecord } from '../../../app/defs/relay.js';
import type { RtspServer } from '../../../app/media/rtsp/index.js';
import { login, startCore, type TestCore } from '../../helpers/core.js';
import { api } from '../../helpers/http.js';
import { processesWithMarker, waitUntil } from '../../helpers/processes.js';
import type { Peer } from '../rtsp/peers.js';
import {
  longestPause,
  publishSource,
  startDestination,
  startSourceServer,
  TestSseServer,
  urlUpdate,
  type Destination,
} from './fixture.js';

const cleanups: Array<() => unknown> = [];
const scope = { after: (fn: () => unknown) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const PASSWORD = 's3cret-Pw';
/** The RTMP stream names of the destinations: stream keys, never shown in answers, logs or events. */
const [KEY1, KEY2, KEY3] = ['out-sk4Hq9Zt', 'out2-sk7Rw2Lm', 'out3-sk5Jd8Vc'];
const started = performance.now();
let tc: TestCore;
let admin = '';
let rtsp: RtspServer;
let camA: Peer;
let dest: Destination;
const sse = new TestSseServer();
const events: BusEvent[] = [];
let urlA = '';
let urlB = '';
let out = '';
const figures: Record<string, unknown> = {};

const get = async <T>(path: string): Promise<T> => {
  const res = await api(tc.url, path, { token: admin });
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  return res.json as T;
};
const status = () => get<{ status: string; pid: number | null; rtsp_url: string }>('/api/stream/status');
const history = async () => (await get<{ history: UrlHistoryRecord[] }>('/api/stream/history')).history;
const logs = async () => (await get<{ logs: StreamLogRecord[] }>('/api/stream/logs?limit=500')).logs;
const sseEvents = async () => (await get<{ events: SseEventRecord[] }>('/api/sse/events?limit=500')).events;

before(async () => {
  rtsp = await startSourceServer(scope);
  [camA] = await Promise.all([
    publishSource(scope, rtsp, 'cam-a', '320x240'),
    publishSource(scope, rtsp, 'cam-b', '640x360'),
  ]);
  dest = await startDestination(scope, [KEY1, KEY2, KEY3]);
  await sse.start();
  scope.after(() => sse.stop());
  urlA = `rtsp://127.0.0.1:${rtsp.port}/cam-a`;
  urlB = `rtsp://admin:${PASSWORD}@127.0.0.1:${rtsp.port}/cam-b`;
  out = `rtmp://127.0.0.1:${dest.port}/live/${KEY1}`;
  tc = await startCore(scope, {
    // In the file, not flags: flags pin a field, and PUT /api/config/sse changes these at run time.
    fileValues: {
      relay: { sse: { url: sse.url, heartbeatTimeoutMs: 1500, reconnectInitialMs: 200, reconnectMaxMs: 1000 } },
    },
    flags: {
      'node.role': 'master',
      'supervisor.backoffInitialMs': '300',
      'supervisor.backoffMaxMs': '1500',
      'supervisor.stallTimeoutMs': '3000',
    },
  });
  scope.after(tc.core.bus.onAny((e) => events.push(e)));
  admin = (await login(tc.url)).accessToken;
  figures.setupMs = Math.round(performance.now() - started);
});

after(() => {
  figures.wallMs = Math.round(performance.now() - started);
  process.stdout.write(`relay figures: ${JSON.stringify(figures)}\n`);
});

test('the seed start route starts the job; the destination shows the source', async () => {
  const res = await api(tc.url, '/api/stream/start', { token: admin, body: { rtsp_url: urlA, rtmp_url: out } });
  assert.equal(res.status, 200, res.text);
  const body = res.json as { success: boolean; stream_id: string; message: string };
  assert.deepEqual([body.success, body.stream_id], [true, 'default'], res.text);
  await waitUntil(() => dest.size(KEY1) === '320x240', 15_000, 'out shows cam-a (320x240)');
  await waitUntil(
    () => events.some((e) => e.type === 'relay.stream.state' && (e.data as { state: string }).state === 'running'),
    5000,
    'running',
  );
  assert.equal((await status()).status, 'running');
});

test('SSE url_update with a new source: new picture size within 5 s, gap logged, history row "sse"', async () => {
  await waitUntil(() => sse.connections.length > 0, 5000, 'the relay connects to the SSE server');
  const t0 = performance.now();
  sse.send('e1', 'url_update', urlUpdate(urlB, null, new Date()));
  await waitUntil(() => dest.size(KEY1) === '640x360', 5000, 'out shows cam-b (640x360) within 5 s');
  const shown = performance.now() - t0;
  await waitUntil(() => dest.videoTags(KEY1).some((t) => t > t0 + shown + 500), 5000, 'video flows again');
  figures.sseToNewSizeMs = Math.round(shown);
  figures.destinationGapMs = longestPause(dest, KEY1, t0 - 1000, performance.now());
  const rows = await history();
  assert.equal(rows.length, 2, 'the start (manual) and the SSE update');
  const row = rows[0]!;
  assert.equal(row.changeSource, 'sse');
  assert.equal(row.eventId, 'e1');
  assert.equal(row.switched, true);
  assert.ok(typeof row.gapMs === 'number' && row.gapMs > 0, `gap measured: ${row.gapMs}`);
  figures.loggedGapMs = row.gapMs;
  assert.equal(row.newRtspUrl, `rtsp://admin:***@127.0.0.1:${rtsp.port}/cam-b`);
  const line = (await logs()).find((l) => /output gap \d+ ms/.test(l.message));
  assert.ok(line, 'the stream log has the gap');
  assert.match(line.message, /URLs changed by sse \(event e1\)/);
});

test('SSE server restarts: Last-Event-ID sent, a repeated event is not applied twice, older timestamps ignored', async () => {
  const before = sse.connections.length;
  const down = performance.now();
  sse.onConnect = (c) => {
    // A control server that ignores Last-Event-ID and replays: e1 again, then e2, older than e1.
    const stale = urlUpdate(urlA, null, new Date(Date.now() - 3_600_000));
    c.res.write(`id: e1\nevent: url_update\ndata: ${JSON.stringify(urlUpdate(urlB, null, new Date()))}\n\n`);
    c.res.write(`id: e2\nevent: url_update\ndata: ${JSON.stringify(stale)}\n\n`);
  };
  await sse.restart(300);
  await waitUntil(() => sse.connections.length > before, 5000, 'the relay reconnects');
  figures.reconnectAfterRestartMs = Math.round(sse.connections[sse.connections.length - 1]!.at - down);
  assert.equal(sse.connections[sse.connections.length - 1]!.headers['last-event-id'], 'e1');
  let stored: SseEventRecord[] = [];
  for (const t0 = performance.now(); performance.now() - t0 < 5000; await new Promise((r) => setTimeout(r, 100))) {
    stored = await sseEvents();
    if (stored.filter((e) => e.processed).length >= 3) break;
  }
  const outcomes = stored.map((e) => `${e.eventId}:${e.outcome}`).reverse();
  assert.deepEqual(outcomes, ['e1:applied', 'e1:duplicate', 'e2:stale']);
  assert.equal((await history()).filter((h) => h.changeSource === 'sse').length, 1, 'applied once');
  assert.equal(dest.size(KEY1), '640x360', 'still cam-b');
  sse.onConnect = null;
});

test('a silent connection is dropped by the heartbeat timeout and reopened', async () => {
  sse.silent = true;
  const before = sse.connections.length;
  sse.dropAll();
  await waitUntil(() => sse.connections.length >= before + 2, 6000, 'a silent connection, then another one');
  const [a, b] = sse.connections.slice(before, before + 2);
  figures.silentDetectedAfterMs = Math.round(b!.at - a!.at);
  const st = await get<{ lastError: string; reconnects: number }>('/api/sse/status');
  assert.match(st.lastError, /no event or heartbeat for 1500 ms/);
  figures.sseReconnects = st.reconnects;
  sse.silent = false;
  sse.dropAll();
  await waitUntil(() => sse.connections.some((c) => !c.silent && !c.res.destroyed), 5000, 'normal connection again');
});

test('PUT /api/config/urls: a bad URL changes nothing; a good one with restart_stream switches', async () => {
  const pid = (await status()).pid;
  for (const bad of ['http://127.0.0.1/x', 'rtsp:///nohost', 'rtsp://127.0.0.1:99999/x', 'rtsp://a b/x']) {
    const res = await api(tc.url, '/api/config/urls', {
      method: 'PUT',
      token: admin,
      body: { rtsp_url: bad, restart_stream: true },
    });
    assert.equal(res.status, 400, res.text);
    const body = res.json as { success: boolean; validated: boolean; errors: string[]; error: { code: string } };
    assert.equal(body.success, false);
    assert.equal(body.validated, false);
    assert.match(body.errors[0]!, /^rtsp_url: /);
    assert.equal(body.error.code, 'invalid_url');
  }
  const probeFails = await api(tc.url, '/api/config/urls', {
    method: 'PUT',
    token: admin,
    body: { rtsp_url: `rtsp://127.0.0.1:${rtsp.port}/no-such-camera`, restart_stream: true },
  });
  assert.equal(probeFails.status, 400, probeFails.text);
  assert.match((probeFails.json as { errors: string[] }).errors[0]!, /probe failed/);
  assert.equal((await status()).pid, pid, 'the running job was not touched');
  assert.equal(dest.size(KEY1), '640x360');

  const t0 = performance.now();
  const res = await api(tc.url, '/api/config/urls', {
    method: 'PUT',
    token: admin,
    body: { rtsp_url: urlA, restart_stream: true },
  });
  assert.equal(res.status, 200, res.text);
  const body = res.json as { success: boolean; validated: boolean; switched: boolean; mode: string; gap_ms: number };
  assert.deepEqual([body.success, body.validated, body.switched, body.mode], [true, true, true, 'restart']);
  await waitUntil(() => dest.size(KEY1) === '320x240', 5000, 'out shows cam-a again');
  figures.apiSwitch = { gapMs: body.gap_ms, newSizeMs: Math.round(performance.now() - t0) };
  assert.equal((await history())[0]!.changeSource, 'api');
});

test('hostile input is refused with a clear error; nothing runs, nothing crashes', async () => {
  const marker = join(tmpdir(), `cupola-pwned-${process.pid}`);
  const pid = (await status()).pid;
  const before = (await sseEvents()).length;
  // SSE: malformed frames, a 5 MB event, a URL with shell metacharacters; then a good (unchanged) event.
  sse.broadcast('this line has no colon\nretry: soon\nid: x\0y\n\n');
  sse.send('h1', 'url_update', '{not json');
  sse.send('h2', 'url_update', { rtsp_url: 5, timestamp: 'yesterday' });
  sse.broadcast(`id: h3\nevent: url_update\ndata: ${'x'.repeat(5 * 1024 * 1024)}\n\n`);
  sse.send('h4', 'url_update', urlUpdate(null, `rtmp://127.0.0.1/live/x;touch${marker}`, new Date()));
  // Unchanged URLs, with slashes escaped as some JSON encoders (PHP) do: the stored data must still be masked.
  const h5 = JSON.stringify(urlUpdate(urlA, out, new Date())).replaceAll('/', '\\/');
  sse.broadcast(`id: h5\nevent: url_update\ndata: ${h5}\n\n`);
  let stored: SseEventRecord[] = [];
  for (const t0 = performance.now(); performance.now() - t0 < 8000; await new Promise((r) => setTimeout(r, 100))) {
    const all = await sseEvents();
    stored = all.slice(0, all.length - before);
    if (stored.some((e) => e.eventId === 'h5' && e.processed)) break;
  }
  const by = (id: string) => stored.find((e) => e.eventId === id);
  assert.equal(by('h1')?.outcome, 'invalid');
  assert.match(by('h1')!.error!, /not JSON/);
  assert.equal(by('h2')?.outcome, 'invalid');
  assert.equal(by('h4')?.outcome, 'invalid');
  assert.match(by('h4')!.error!, /rtmp_url: contains ";"/);
  assert.equal(by('h5')?.outcome, 'unchanged', 'the client survived and still processes events');
  const refused = stored.filter((e) => e.outcome === 'refused').map((e) => e.error);
  assert.ok(
    refused.some((r) => /line-too-long/.test(r ?? '')),
    `5 MB event refused: ${refused.join(' | ')}`,
  );
  assert.ok(
    refused.some((r) => /unknown-field/.test(r ?? '')),
    'malformed line refused',
  );

  const put = (body: object) => api(tc.url, '/api/config/urls', { method: 'PUT', token: admin, body });
  for (const rtmp of [`rtmp://127.0.0.1/live/x;touch ${marker}`, `rtmp://127.0.0.1/live/$(touch${marker})`]) {
    const res = await put({ rtmp_url: rtmp, restart_stream: true });
    assert.equal(res.status, 400, res.text);
    assert.match((res.json as { errors: string[] }).errors[0]!, /^rtmp_url: contains/);
  }
  const create = (ffmpegParams: string) =>
    api(tc.url, '/api/v1/relay/streams', {
      token: admin,
      body: { id: 'evil', rtspUrl: urlA, rtmpUrl: `rtmp://127.0.0.1:${dest.port}/live/evil`, ffmpegParams },
    });
  const cases: Array<[string, RegExp]> = [
    [`-c:v libx264 -f mp4 ${marker}.mp4`, /"-f" is not allowed/],
    ['-i /etc/passwd', /"-i" is not allowed: a job has exactly one input/],
    [`-vf movie=${marker}`, /filter "movie" is not allowed/],
    [`-c:v copy ${marker}.flv`, /bare argument would be an output file/],
    ['-b:v file:/etc/passwd', /no URLs or protocols/],
  ];
  for (const [params, why] of cases) {
    const res = await create(params);
    assert.equal(res.status, 400, res.text);
    const err = (res.json as { error: { code: string; message: string; field: string } }).error;
    assert.equal(err.code, 'invalid_request');
    assert.equal(err.field, 'ffmpeg_params');
    assert.match(err.message, why);
  }
  assert.equal((await api(tc.url, '/health')).status, 200);
  assert.equal((await status()).pid, pid, 'the running job was not touched');
  assert.equal(existsSync(marker) || existsSync(`${marker}.mp4`) || existsSync(`${marker}.flv`), false);
  assert.deepEqual(processesWithMarker(marker), []);
  assert.equal((await get<{ streams: RelayStreamView[] }>('/api/v1/relay/streams')).streams.length, 1);
});

test('the source camera goes away: the job retries with backoff and says so; it comes back: resumes by itself', async () => {
  const from = events.length;
  const stateOf = (e: BusEvent) => (e.type === 'relay.stream.state' ? (e.data as { state: string }).state : null);
  if (camA.running()) process.kill(-camA.pid, 'SIGKILL');
  await waitUntil(() => events.slice(from).some((e) => stateOf(e) === 'retrying'), 10_000, 'retrying');
  await waitUntil(() => events.slice(from).filter((e) => e.type === 'child.restarting').length >= 2, 10_000, 'retries');
  const st = await status();
  assert.equal(st.status, 'retrying');
  assert.ok((await logs()).some((l) => /retrying in \d+\.\d s \(attempt \d+\)/.test(l.message)));
  const delays = events
    .slice(from)
    .filter((e) => e.type === 'child.restarting')
    .map((e) => (e.data as { delayMs: number }).delayMs);
  figures.retryDelaysMs = delays;
  const back = performance.now();
  camA = await publishSource(scope, rtsp, 'cam-a', '320x240');
  await waitUntil(() => dest.size(KEY1) === '320x240', 10_000, 'out shows cam-a again');
  await waitUntil(() => events.slice(from).some((e) => stateOf(e) === 'running'), 5000, 'running again');
  figures.resumedAfterSourceBackMs = Math.round(performance.now() - back);
  assert.ok((await logs()).some((l) => /source back/.test(l.message)));
});

test('a new destination switches make-before-break: the new output starts before the old one stops', async () => {
  const out2 = `rtmp://127.0.0.1:${dest.port}/live/${KEY2}`;
  const from = dest.timeline.length;
  const res = await api(tc.url, '/api/config/urls', {
    method: 'PUT',
    token: admin,
    body: { rtmp_url: out2, restart_stream: true },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal((res.json as { mode: string }).mode, 'make-before-break');
  await waitUntil(() => dest.size(KEY2) === '320x240' && dest.size(KEY1) === null, 5000, 'moved to out2');
  const order = dest.timeline.slice(from).map((e) => e.what);
  assert.ok(order.indexOf(`publish ${KEY2}`) < order.indexOf(`unpublish ${KEY1}`), order.join(', '));
  const overlap = dest.timeline.find((e, i) => i >= from && e.what === `unpublish ${KEY1}`)!.at;
  figures.makeBeforeBreakOverlapMs = Math.round(
    overlap - dest.timeline.find((e, i) => i >= from && e.what === `publish ${KEY2}`)!.at,
  );
  assert.match((await logs())[0]!.message, /make-before-break, output gap 0 ms/);
});

test('/api/v1/relay/streams: a second stream created while its source is down re-probes it; re-encode, stop, delete', async () => {
  const base = '/api/v1/relay/streams';
  const out3 = `rtmp://127.0.0.1:${dest.port}/live/${KEY3}`;
  const urlC = `rtsp://admin:${PASSWORD}@127.0.0.1:${rtsp.port}/cam-c`;
  const masked = await api(tc.url, base, {
    token: admin,
    body: { id: 'second', rtspUrl: urlC, rtmpUrl: `rtmp://127.0.0.1:${dest.port}/live/***` },
  });
  assert.equal(masked.status, 400, 'a new stream has no stored stream key for *** to stand for');
  assert.match(masked.text, /rtmp_url: the stream key is masked/);
  // cam-c is not published yet: the probe fails, preset auto guesses copy; the source then sends MPEG-4 Part 2,
  // which FLV does not carry: copied it fails, so the job must probe again and encode.
  const created = await api(tc.url, base, { token: admin, body: { id: 'second', rtspUrl: urlC, rtmpUrl: out3 } });
  assert.equal(created.status, 201, created.text);
  const view = (created.json as { stream: RelayStreamView }).stream;
  assert.equal(view.rtspUrl, `rtsp://admin:***@127.0.0.1:${rtsp.port}/cam-c`);
  assert.equal(view.rtmpUrl, `rtmp://127.0.0.1:${dest.port}/live/***`);
  const streamLog = async () => (await get<{ logs: StreamLogRecord[] }>(`${base}/second/logs?limit=200`)).logs;
  assert.ok((await streamLog()).some((l) => /source probe failed .*probing again when ffmpeg ends/.test(l.message)));
  const camC = await publishSource(scope, rtsp, 'cam-c', '480x270', 'mpeg4');
  const t0 = performance.now();
  await waitUntil(() => dest.size(KEY3) === '480x270', 15_000, 'out3 shows cam-c (480x270, encoded)');
  figures.reprobedSourceShownMs = Math.round(performance.now() - t0);
  assert.ok(
    (await streamLog()).some((l) =>
      /source probed again: video mpeg4, ffmpeg started again with video libx264/.test(l.message),
    ),
    'the stream log says why the job changed',
  );
  const dup = await api(tc.url, base, { token: admin, body: { id: 'second', rtspUrl: urlB, rtmpUrl: out } });
  assert.equal(dup.status, 409, dup.text);
  const patched = await api(tc.url, `${base}/second`, { method: 'PATCH', token: admin, body: { preset: 'transcode' } });
  assert.equal(patched.status, 200, patched.text);
  const { stream } = patched.json as { stream: RelayStreamView };
  assert.deepEqual([stream.preset, stream.state], ['transcode', 'running']);
  await waitUntil(() => dest.size(KEY3) === '480x270', 10_000, 'out3 re-encoded');
  const stopped = await api(tc.url, `${base}/second/stop`, { method: 'POST', token: admin });
  assert.equal((stopped.json as { stream: RelayStreamView }).stream.state, 'stopped');
  await waitUntil(() => dest.size(KEY3) === null, 5000, 'out3 gone');
  assert.equal((await api(tc.url, `${base}/second`, { method: 'DELETE', token: admin })).status, 204);
  assert.equal((await api(tc.url, `${base}/second`, { token: admin })).status, 404);
  if (camC.running()) process.kill(-camC.pid, 'SIGKILL');
});

test('SSE settings: the auth header is never shown; a change reconnects with it', async () => {
  const before = sse.connections.length;
  const put = await api(tc.url, '/api/config/sse', {
    method: 'PUT',
    token: admin,
    body: { auth_header: 'Bearer control-secret-1', heartbeat_timeout_ms: 2000 },
  });
  assert.equal(put.status, 200, put.text);
  await waitUntil(
    () => sse.connections.slice(before).some((c) => c.headers.authorization === 'Bearer control-secret-1'),
    5000,
    'the relay reconnects with the auth header',
  );
  const got = await api(tc.url, '/api/config/sse', { token: admin });
  const body = got.json as { auth_header_set: boolean; heartbeat_timeout_ms: number; status: { state: string } };
  assert.deepEqual([body.auth_header_set, body.heartbeat_timeout_ms], [true, 2000]);
  for (const text of [put.text, got.text, (await api(tc.url, '/api/v1/config', { token: admin })).text])
    assert.doesNotMatch(text, /control-secret-1/);
  const bad = await api(tc.url, '/api/config/sse', { method: 'PUT', token: admin, body: { url: 'ftp://x/y' } });
  assert.equal(bad.status, 400, bad.text);
  assert.equal((bad.json as { error: { field: string } }).error.field, 'relay.sse.url');
  const anon = await api(tc.url, '/api/config/urls', { method: 'PUT', body: { rtsp_url: urlA } });
  assert.equal(anon.status, 401, 'the seed routes sit behind the same auth');
});

test('the OpenAPI document lists the seed routes and the relay resources', async () => {
  const doc = (await api(tc.url, '/api/docs/json', { token: admin })).json as { paths: Record<string, unknown> };
  for (const path of ['/api/stream/start', '/api/stream/status', '/api/stream/control', '/api/config/urls'])
    assert.ok(doc.paths[path], path);
  assert.ok(doc.paths['/api/v1/relay/streams']);
});

test('credentials and stream keys are masked in every answer, log line and stored event', async () => {
  const bodies = await Promise.all(
    [
      '/api/stream/status',
      '/api/stream/history',
      '/api/stream/logs?limit=1000',
      '/api/sse/events?limit=1000',
      '/api/config/urls',
      '/api/v1/relay/streams',
      '/api/v1/relay/streams/default/history',
    ].map(async (p) => (await api(tc.url, p, { token: admin })).text),
  );
  const secrets = new RegExp([PASSWORD, KEY1, KEY2, KEY3].join('|'));
  for (const text of bodies) assert.doesNotMatch(text, secrets);
  assert.ok(bodies.some((t) => t.includes('rtsp://admin:***@127.0.0.1')));
  assert.ok(bodies.some((t) => t.includes(`rtmp://127.0.0.1:${dest.port}/live/***`)));
  const h5 = (await sseEvents()).find((e) => e.eventId === 'h5')!;
  assert.equal(JSON.parse(h5.data).rtmp_url, `rtmp://127.0.0.1:${dest.port}/live/***`, 'escaped slashes masked too');
  for (const e of events) assert.doesNotMatch(JSON.stringify(e), secrets);
  assert.ok(events.some((e) => e.type === 'relay.urls.changed' && JSON.stringify(e).includes('/live/***')));

  // What GET returned, sent back: the stored secrets stay (no *** stored, nothing restarted).
  const pid = (await status()).pid;
  const shown = await get<{ rtsp_url: string; rtmp_url: string }>('/api/config/urls');
  assert.equal(shown.rtmp_url, `rtmp://127.0.0.1:${dest.port}/live/***`);
  const put = (body: object) => api(tc.url, '/api/config/urls', { method: 'PUT', token: admin, body });
  const back = await put({ rtsp_url: shown.rtsp_url, rtmp_url: shown.rtmp_url, restart_stream: true });
  assert.equal(back.status, 200, back.text);
  assert.deepEqual((back.json as { changed: boolean; message: string }).changed, false, back.text);
  const elsewhere = await put({ rtmp_url: `rtmp://localhost:${dest.port}/live/***`, restart_stream: true });
  assert.equal(elsewhere.status, 400, 'a stream key is never sent to another server');
  assert.match(elsewhere.text, /rtmp_url: the stream key is masked \(\*\*\*\) and the stored URL is on another server/);
  assert.equal((await status()).pid, pid);
  assert.equal(dest.size(KEY2), '320x240', 'still forwarding to the stored destination');
});
