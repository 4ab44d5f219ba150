/**
 * A camera that cannot push: created through the API as rtsp-pull, pulled by the slave's media plane and served on
 * F1; disabling it takes the F1 path offline. The camera is an in-test RtspServer with credentials, fed by ffmpeg.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PullStatus } from '../../../app/media/worker/protocol.js';
import type { BusEvent } from '../../../app/defs/events.js';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { Authorize } from '../../../app/media/rtsp/index.js';
import type { PlaneStream } from '../../../app/media/worker/protocol.js';
import { login, startCore } from '../../helpers/core.js';
import { api } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import { assertRealtimeRead, ffmpegRead, probe, publishTestStream, readReport, startServer } from '../rtsp/peers.js';

const PULL_PASSWORD = 'door-pull-s3cret';
const WRONG_PASSWORD = 'zq-not-the-password';

/** The camera's accounts: `cam` publishes (ffmpeg), `puller` reads (the slave). */
const cameraPolicy: Authorize = (req) => {
  const password = req.user === 'cam' ? 'cam-secret' : req.user === 'puller' ? PULL_PASSWORD : undefined;
  if (password === undefined || !req.checkPassword(password)) return 'unauthorized';
  return req.action === 'publish' && req.user !== 'cam' ? 'forbidden' : 'ok';
};

test('an rtsp-pull camera is served on F1 (ffprobe, ffmpeg in real time); disabling it takes F1 offline', async (t) => {
  const camera = await startServer(t, { authorize: cameraPolicy });
  await publishTestStream(t, camera, 'stream1', 'tcp', `rtsp://cam:cam-secret@127.0.0.1:${camera.port}/stream1`);

  const tc = await startCore(t, { flags: { 'node.role': 'slave' } });
  const events: BusEvent[] = [];
  t.after(tc.core.bus.onAny((e) => events.push(e)));
  const admin = (await login(tc.url)).accessToken;
  const { media } = (await api(tc.url, '/api/v1/node', { token: admin })).json as NodeInfo;
  assert.ok(media);
  const is = (type: string, e: BusEvent) => {
    const d = e.data as { plane?: string; path?: string };
    return e.type === type && d.plane === 'f1' && d.path === 'door';
  };

  const created = performance.now();
  const res = await api(tc.url, '/api/v1/cameras', {
    token: admin,
    body: {
      id: 'door',
      name: 'Door',
      source: {
        kind: 'rtsp-pull',
        url: `rtsp://127.0.0.1:${camera.port}/stream1`,
        user: 'puller',
        password: PULL_PASSWORD,
      },
    },
  });
  assert.equal(res.status, 201, res.text);
  assert.ok(!res.text.includes(PULL_PASSWORD), 'the API never returns the pull password');
  await waitUntil(() => events.some((e) => is('stream.online', e)), 15_000, 'F1 door online');
  t.diagnostic(`F1 online ${Math.round(performance.now() - created)} ms after POST /api/v1/cameras`);

  const tokenRes = await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: 'reader' } });
  const { token, secret } = tokenRes.json as { token: { id: string }; secret: string };
  const f1 = `rtsp://${token.id}:${secret}@127.0.0.1:${media.f1Port}/door`;
  const reader = ffmpegRead(t, f1, 'tcp', 5);
  const probed = await probe(t, f1, ['-rtsp_transport', 'tcp']);
  assert.equal(probed.code, 0, probed.stderr);
  assert.match(probed.stdout, /codec_name=h264\|width=640\|height=360/);
  assert.match(probed.stdout, /codec_name=aac/);
  assertRealtimeRead(readReport(await reader.done), 5, 'ffmpeg reading F1 door');

  // Stats reach the API every 2 s.
  let listed: PlaneStream[] = [];
  for (let i = 0; i < 20 && !listed.some((s) => s.pull); i++) {
    const r = await api(tc.url, '/api/v1/streams', { token: admin });
    assert.ok(!r.text.includes(PULL_PASSWORD), 'stream stats never carry the password');
    listed = (r.json as { streams: PlaneStream[] }).streams;
    if (!listed.some((s) => s.pull)) await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const door = listed.find((s) => s.plane === 'f1' && s.stats.path === 'door');
  assert.equal(door?.pull?.state, 'playing', JSON.stringify(listed));
  assert.equal(door.pull.reconnects, 0);

  // Changed credentials restart the puller: a wrong password takes F1 offline, the right one brings it back.
  const source = (password: string) => ({
    source: { kind: 'rtsp-pull', url: `rtsp://127.0.0.1:${camera.port}/stream1`, user: 'puller', password },
  });
  const count = (type: string) => events.filter((e) => is(type, e)).length;
  const wrong = await api(tc.url, '/api/v1/cameras/door', {
    method: 'PATCH',
    token: admin,
    body: source(WRONG_PASSWORD),
  });
  assert.equal(wrong.status, 200, wrong.text);
  await waitUntil(() => count('stream.offline') === 1, 5000, 'F1 door offline with a wrong password');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(count('stream.online'), 1, 'not back while the camera refuses the password');
  // Offline, so not among the streams: the operator finds out why in the pullers' list (reported every 2 s).
  let refused: { pulls: PullStatus[] } = { pulls: [] };
  const puller = () => refused.pulls.find((p) => p.camera === 'door');
  for (let i = 0; i < 40 && (puller()?.lastError ?? null) === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    refused = (await api(tc.url, '/api/v1/streams', { token: admin })).json as { pulls: PullStatus[] };
  }
  assert.notEqual(puller()?.state, 'playing');
  assert.match(puller()?.lastError ?? '', /401|unauthori[sz]ed|credentials|auth/i);
  assert.ok(!JSON.stringify(refused).includes(WRONG_PASSWORD), 'no password in the API');
  await api(tc.url, '/api/v1/cameras/door', { method: 'PATCH', token: admin, body: source(PULL_PASSWORD) });
  await waitUntil(() => count('stream.online') === 2, 10_000, 'F1 door back with the right password');

  const disabled = performance.now();
  const patch = await api(tc.url, '/api/v1/cameras/door', { method: 'PATCH', token: admin, body: { enabled: false } });
  assert.equal(patch.status, 200, patch.text);
  await waitUntil(() => count('stream.offline') === 2, 5000, 'F1 door offline');
  t.diagnostic(`F1 offline ${Math.round(performance.now() - disabled)} ms after PATCH enabled=false`);
  await waitUntil(() => camera.paths()[0]?.readers === 0, 5000, 'the camera sees the slave leave');
  const gone = await probe(t, f1, ['-rtsp_transport', 'tcp']);
  assert.notEqual(gone.code, 0, 'F1 door is no longer served');
});
