/**
 * SlaveClient against a real slave core (RTMP push → F1 online/offline, leases, an outage with a restart on the same
 * port and data dir) and against a fake slave that answers 500s, garbage, a 10 MB line, silence and worse.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlaveClient } from '../../../app/cluster/slave-client.js';
import type { Camera } from '../../../app/defs/camera.js';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { SlavePeerState } from '../../../app/defs/peer.js';
import { login, startCore, tempDir, type TestCore } from '../../helpers/core.js';
import { api } from '../../helpers/http.js';
import { killAll, waitUntil } from '../../helpers/processes.js';
import { captureLog, FFMPEG, publishArgs, spawnPeer } from '../rtmp/peers.js';
import { FAKE_TOKEN, startFakeSlave, type FakeMode } from './fake-slave.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

interface Recording {
  /** With the wall time each arrived at. */
  states: Array<SlavePeerState & { at: number }>;
  f1: string[];
  cameras: Camera[][];
}

function record(client: SlaveClient): Recording {
  const rec: Recording = { states: [], f1: [], cameras: [] };
  client.on('state', (s) => rec.states.push({ ...s, at: Date.now() }));
  client.on('f1-online', (id) => rec.f1.push(`online:${id}`));
  client.on('f1-offline', (id) => rec.f1.push(`offline:${id}`));
  client.on('cameras', (list) => rec.cameras.push(list));
  return rec;
}

/** Consecutive distinct state names. */
const path = (rec: Recording) => rec.states.map((s) => s.state).filter((s, i, a) => s !== a[i - 1]);

async function slaveCore(t: { after(fn: () => unknown): void }, dataDir: string, port?: string): Promise<TestCore> {
  const flags: Record<string, string> = { 'node.role': 'slave', ...(port ? { 'api.port': port } : {}) };
  return startCore(t, { dataDir, heartbeatMs: 500, flags });
}

async function pushTo(t: { after(fn: () => unknown): void }, tc: TestCore, admin: string, id: string, key: string) {
  const node = (await api(tc.url, '/api/v1/node', { token: admin })).json as NodeInfo;
  return spawnPeer(t, FFMPEG, publishArgs(`rtmp://127.0.0.1:${node.media!.rtmpPort}/live/${id}?key=${key}`));
}

test('a real slave: cameras, F1 online/offline from an RTMP push, leases, an outage and a restart', async (t) => {
  const dataDir = tempDir(t);
  const s1 = await slaveCore(t, dataDir);
  const admin = (await login(s1.url)).accessToken;
  const created = await api(s1.url, '/api/v1/tokens', { token: admin, body: { name: 'compressor-1' } });
  const { secret } = created.json as { secret: string };
  const addCamera = async (tc: TestCore, id: string) => {
    const res = await api(tc.url, '/api/v1/cameras', {
      token: admin,
      body: { id, name: id, source: { kind: 'rtmp-push' } },
    });
    assert.equal(res.status, 201, res.text);
    return (res.json as { grant: { publishKey: string } }).grant.publishKey;
  };
  const gateKey = await addCamera(s1, 'gate');

  const { log, lines } = captureLog();
  const options = { backoffMs: { initial: 200, max: 1600 }, idleTimeoutMs: 3000, stableMs: 1000, log };
  const client = new SlaveClient({ name: 'slave-1', url: s1.url, token: secret }, options);
  const rec = record(client);
  t.after(() => client.stop());
  const started = performance.now();
  await client.start();
  await waitUntil(() => client.state.state === 'online', 10_000, 'online');
  const onlineMs = performance.now() - started;
  assert.deepEqual(
    rec.cameras.at(-1)?.map((c) => c.id),
    ['gate'],
  );

  // A camera added later is listed again (camera.created), then its F1 comes and goes with the RTMP publisher.
  const doorKey = await addCamera(s1, 'door');
  await waitUntil(() => !!rec.cameras.at(-1)?.some((c) => c.id === 'door'), 5000, 'door listed');
  await new Promise((r) => setTimeout(r, 200)); // the access tables reach the media worker over IPC
  const pushedAt = performance.now();
  const door = await pushTo(t, s1, admin, 'door', doorKey);
  await waitUntil(() => rec.f1.includes('online:door'), 20_000, 'f1-online door');
  const f1OnlineMs = performance.now() - pushedAt;
  killAll([door.pid]);
  await door.done;
  const killedAt = performance.now();
  await waitUntil(() => rec.f1.includes('offline:door'), 10_000, 'f1-offline door');
  const f1OfflineMs = performance.now() - killedAt;
  assert.deepEqual(rec.f1, ['online:door', 'offline:door']);

  // Leases through the client: granted, held by another, released.
  const other = new SlaveClient({ name: 'slave-1', url: s1.url, token: secret });
  const granted = await client.claim('gate', 'compressor-1', 10);
  assert.equal(granted.result, 'granted');
  assert.match((granted.result === 'granted' && granted.rtsp?.user) || '', /^lease-/, "the lease's RTSP credential");
  const held = await other.claim('gate', 'compressor-2', 10);
  assert.equal(held.result, 'held');
  assert.equal(held.result === 'held' && held.heldBy, 'compressor-1');
  assert.equal((await other.release('gate', 'compressor-2')).result, 'held');
  assert.equal((await client.release('gate', 'compressor-1')).result, 'released');
  assert.equal((await other.claim('nope', 'compressor-2', 10)).result, 'error');

  // gate goes online, then the slave goes away: the client backs off as unreachable and keeps its last view.
  const gate = await pushTo(t, s1, admin, 'gate', gateKey);
  await waitUntil(() => rec.f1.includes('online:gate'), 20_000, 'f1-online gate');
  const port = new URL(s1.url).port;
  const downAt = performance.now();
  await s1.close();
  await gate.done;
  await waitUntil(() => client.state.state === 'unreachable' && client.state.retries >= 3, 15_000, 'unreachable x3');
  const downToThirdRetryMs = performance.now() - downAt;
  assert.match(client.state.lastError ?? '', /fetch failed|ECONNREFUSED|closed/);
  assert.deepEqual(client.f1Online(), ['gate'], 'no events while down: the last view stands');

  // The same slave comes back (same port and data dir, so the token still works): online again, listed again.
  const s2 = await slaveCore(t, dataDir, port);
  const upAt = performance.now();
  await waitUntil(() => client.state.state === 'online', 10_000, 'online again');
  const reconnectMs = performance.now() - upAt;
  // No stream.offline could reach the client (the API stops before the media plane): only a new listing says so.
  await waitUntil(() => rec.f1.at(-1) === 'offline:gate', 5000, 'gate offline after the re-list');
  const gate2 = await pushTo(t, s2, admin, 'gate', gateKey);
  await waitUntil(() => rec.f1.at(-1) === 'online:gate', 20_000, 'gate online on the new slave');
  killAll([gate2.pid]);

  assert.deepEqual(path(rec).slice(0, 4), ['connecting', 'online', 'connecting', 'unreachable']);
  assert.equal(path(rec).at(-1), 'online');
  const delays = rec.states.filter((s) => s.nextRetryAt).map((s) => Date.parse(s.nextRetryAt!) - s.at);
  assert.ok(
    delays.every((d) => d <= 1600 + 50),
    `backoff capped: ${delays.join(', ')}`,
  );
  await client.stop();
  await s2.close();
  assert.equal(lines.join('').includes(secret), false, 'the token is never logged');
  assert.equal(JSON.stringify(rec).includes(secret), false, 'nor reported');
  assert.deepEqual(unhandled, []);
  t.diagnostic(
    JSON.stringify({
      onlineMs: Math.round(onlineMs),
      f1OnlineMs: Math.round(f1OnlineMs),
      f1OfflineMs: Math.round(f1OfflineMs),
      downToThirdRetryMs: Math.round(downToThirdRetryMs),
      reconnectAfterRestartMs: Math.round(reconnectMs),
      retryDelaysMs: delays,
    }),
  );
});

test('a fake slave that fails every way: the client stays up, says why, backs off, resumes and recovers', async (t) => {
  const fake = await startFakeSlave(t);
  const { log, lines } = captureLog();
  const timersBefore = timerCount();
  const options = {
    backoffMs: { initial: 100, max: 800 },
    idleTimeoutMs: 1000,
    stableMs: 5000,
    requestTimeoutMs: 1000,
    listingStaleMs: 300,
    log,
  };
  const client = new SlaveClient({ name: 'fake', url: fake.url, token: FAKE_TOKEN }, options);
  const rec = record(client);
  t.after(() => client.stop());
  const hits = (p: string, from = 0) => fake.hits.filter((h) => h.path === `/api/v1/${p}` && h.at >= from);
  const error = () => client.state.lastError ?? '';
  const phase = async (mode: FakeMode, done: () => boolean, what: string) => {
    fake.mode = mode;
    fake.dropAll();
    await waitUntil(done, 8000, `${mode}: ${what} (state ${JSON.stringify(client.state)})`);
  };

  // 500s: unreachable, with the API's error code, retried with growing, jittered, capped delays.
  fake.mode = '500';
  await client.start();
  await waitUntil(() => client.state.retries >= 6, 10_000, 'six failed attempts');
  assert.equal(client.state.state, 'unreachable');
  assert.match(error(), /HTTP 500 internal/);
  const at = hits('events').map((h) => h.at);
  const gaps = at.slice(1).map((a, i) => Math.round(a - at[i]!));
  gaps.forEach((gap, n) => {
    const base = Math.min(800, 100 * 2 ** n);
    assert.ok(gap >= base / 2 - 10 && gap <= base + 250, `gap ${n} = ${gap} ms, expected ${base / 2}-${base} ms`);
  });

  // Healthy: online, listed, F1 from the listing, then from events; a malformed event is counted, not fatal.
  await phase('healthy', () => rec.f1.includes('online:cam-1'), 'f1-online from the listing');
  assert.equal(client.state.state, 'online');
  assert.deepEqual(
    rec.cameras.at(-1)?.map((c) => c.id),
    ['cam-1'],
  );
  fake.f1.delete('cam-1');
  fake.send('id: 5\nevent: stream.offline\ndata: {"type":"stream.offline","data":{"plane":"f1","path":"cam-1"}}\n\n');
  await waitUntil(() => rec.f1.at(-1) === 'offline:cam-1', 2000, 'f1-offline from the event');
  fake.send('id: 6\nevent: stream.online\ndata: {not json\n\n');
  await waitUntil(() => client.state.sseErrors === 1, 2000, 'one counted error');
  const listed = hits('cameras').length;
  fake.send('event: reset\ndata: {}\n\n');
  await waitUntil(() => hits('cameras').length > listed, 2000, 're-list on reset');
  assert.equal(client.state.state, 'online');

  // The slave drops the stream: the client resumes after the last id it saw, and lists again.
  const dropAt = performance.now();
  fake.dropAll();
  await waitUntil(() => hits('events', dropAt).length > 0 && hits('cameras', dropAt).length > 0, 3000, 'resume');
  assert.equal(hits('events', dropAt)[0]!.lastEventId, '6');
  await waitUntil(() => client.state.state === 'online', 3000, 'online after the drop');

  const longLine = performance.now();
  await phase('garbage-sse', () => client.state.state === 'unreachable' && /event stream/.test(error()), 'garbage');
  assert.ok(client.state.sseErrors > 5);
  await phase('long-line', () => /line longer than 65536/.test(error()), '10 MB line');
  const written = fake.longLineWritten[0]!;
  assert.ok(written < 10 * 1024 * 1024, `dropped before the end of the line (${written} bytes sent)`);
  const longLineMs = performance.now() - longLine;
  await phase('silent-sse', () => /silent for 1000 ms/.test(error()), 'idle timeout');
  await phase('hang', () => /no answer within 1000 ms/.test(error()), 'no answer');
  await phase('not-sse', () => /not an event stream/.test(error()), 'not SSE');
  await phase('not-json', () => /not JSON/.test(error()), 'not JSON');
  await phase('healthy', () => client.state.state === 'online', 'recovered');

  // Lease calls against a failing slave come back as values.
  fake.mode = '500';
  const failed = await client.claim('cam-1', 'c1', 10);
  assert.deepEqual(failed.result === 'error' && [failed.status, failed.code], [500, 'internal']);
  fake.mode = 'hang';
  const hung = await client.claim('cam-1', 'c1', 10);
  assert.equal(hung.result === 'error' && hung.status, null);

  // A wrong token: unreachable, naming the code, never the token.
  const bad = new SlaveClient({ name: 'fake', url: fake.url, token: 'cpt_0123456789ab_wrong-secret' }, options);
  fake.mode = 'healthy';
  await bad.start();
  await waitUntil(() => /invalid_token/.test(bad.state.lastError ?? ''), 5000, '401');
  assert.equal(bad.state.state, 'unreachable');
  await bad.stop();

  const stopAt = performance.now();
  await client.stop();
  const stopMs = performance.now() - stopAt;
  fake.dropAll();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(timerCount() <= timersBefore, `no timer left behind (${timerCount()} > ${timersBefore})`);
  assert.equal(lines.join('').includes(FAKE_TOKEN), false, 'the token is never logged');
  assert.equal(JSON.stringify(rec).includes(FAKE_TOKEN), false);
  assert.deepEqual(unhandled, []);
  t.diagnostic(
    JSON.stringify({
      gapsMs: gaps,
      longLineBytesSent: written,
      garbageToLongLineMs: Math.round(longLineMs),
      stopMs: Math.round(stopMs),
    }),
  );
});

/** Active timers of this process (the client must leave none behind once stopped). */
function timerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
