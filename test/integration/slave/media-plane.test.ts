/** The slave's media plane as a supervised worker: F2 publish/read with API tokens over RTSP, refusals, crash recovery. */
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { test } from 'node:test';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { MediaCounters, PlaneStream } from '../../../app/media/worker/protocol.js';
import { api, until } from '../../helpers/http.js';
import { isRunning, readProcess, waitUntil } from '../../helpers/processes.js';
import {
  assertGstRead,
  assertRealtimeRead,
  ffmpegRead,
  gstRead,
  probe,
  publisherArgs,
  readReport,
  spawnPeer,
} from '../rtsp/peers.js';
import { PROBE_TCP, addCamera, rtmpPushArgs, startSlave, streams, token, workerPid } from './slave.js';

test('a compressor token publishes F2 (Digest, user = token id); readers need a token; F1 takes no publisher', async (t) => {
  const s = await startSlave(t);
  const { id, secret } = await token(s, 'compressor');
  const f2 = `rtsp://${id}:${secret}@127.0.0.1:${s.media.f2Port}/cam1`;
  const pub = spawnPeer(t, '/usr/bin/ffmpeg', publisherArgs(f2, 'tcp'));
  await waitUntil(() => s.events.some((e) => e.type === 'stream.online'), 15_000, 'stream.online');
  const online = s.events.find((e) => e.type === 'stream.online')!;
  assert.deepEqual(online.data, { plane: 'f2', path: 'cam1' });

  const read = await probe(t, f2, PROBE_TCP);
  assert.equal(read.code, 0, read.stderr);
  assert.match(read.stdout, /codec_name=h264\|width=640/);
  assert.match(read.stdout, /codec_name=aac/);

  const anonymous = await probe(t, `rtsp://127.0.0.1:${s.media.f2Port}/cam1`, PROBE_TCP);
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /401/);
  const wrong = await probe(t, `rtsp://${id}:not-the-secret@127.0.0.1:${s.media.f2Port}/cam1`, PROBE_TCP);
  assert.notEqual(wrong.code, 0);
  await waitUntil(() => s.events.some((e) => e.type === 'media.auth-failed'), 5000, 'media.auth-failed');

  // Stats reach the API within the 2 s reporting period.
  let listed: PlaneStream[] = [];
  await (async () => {
    const until = Date.now() + 6000;
    while (Date.now() < until && !listed.some((x) => x.plane === 'f2' && x.stats.packetsIn > 0)) {
      listed = await streams(s);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const cam = listed.find((x) => x.plane === 'f2' && x.stats.path === 'cam1');
  assert.ok(cam, JSON.stringify(listed));
  assert.deepEqual(
    cam.stats.tracks.map((tr) => tr.codec.toUpperCase()),
    ['H264', 'MPEG4-GENERIC'],
  );
  const metrics = await api(s.tc.url, '/metrics', { token: s.admin });
  assert.match(metrics.text, /cupola_stream_bytes_in\{plane="f2",path="cam1"\} [1-9]/);

  const f1 = spawnPeer(
    t,
    '/usr/bin/ffmpeg',
    publisherArgs(`rtsp://${id}:${secret}@127.0.0.1:${s.media.f1Port}/cam1`, 'tcp'),
  );
  const f1Result = await f1.done;
  assert.notEqual(f1Result.code, 0, 'publishing on F1 is refused');
  assert.ok(pub.running(), 'the F2 publisher is unaffected');
});

test('a revoked token stops working at once; rtsp.maxConnectionsPerIp bounds the connections of one address', async (t) => {
  const s = await startSlave(t, { flags: { 'rtsp.maxConnectionsPerIp': '2' } });
  const { id, secret } = await token(s, 'short-lived');
  const res = await api(s.tc.url, `/api/v1/tokens/${id}`, { method: 'DELETE', token: s.admin });
  assert.equal(res.status, 204);
  await new Promise((r) => setTimeout(r, 200));
  const pub = spawnPeer(
    t,
    '/usr/bin/ffmpeg',
    publisherArgs(`rtsp://${id}:${secret}@127.0.0.1:${s.media.f2Port}/x`, 'tcp'),
  );
  const result = await pub.done;
  assert.notEqual(result.code, 0);

  // Two connections from 127.0.0.1 are held open; the third is answered 503 and closed, and counted.
  const held = await Promise.all([connect(t, s.media.f1Port), connect(t, s.media.f1Port)]);
  const third = await connect(t, s.media.f1Port);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    third.on('data', (d: Buffer) => (text += d.toString()));
    third.on('close', () => resolve(text));
    third.setTimeout(5000, () => third.destroy()); // accepted instead: nothing comes
  });
  assert.match(answer, /^RTSP\/1\.0 503 /);
  for (const socket of held) assert.ok(!socket.destroyed, 'the two within the bound stay open');
  await until(
    async () => {
      const res = await api(s.tc.url, '/api/v1/streams', { token: s.admin });
      return (res.json as { counters: MediaCounters }).counters.f1.connectionsRejected === 1;
    },
    5000,
    'the refusal counted on F1',
  );
});

/** A TCP connection to 127.0.0.1:`port` (destroyed in t.after). */
function connect(t: { after(fn: () => void): void }, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
    t.after(() => socket.destroy());
  });
}

test('a crashed media plane is restarted, keeps the leases and serves again; the core stays up; stop leaves no worker', async (t) => {
  const s = await startSlave(t);
  // A lease taken before the crash still decides who publishes F2 cam9: the core configures the new worker with it.
  await addCamera(s, 'cam9');
  const holder = await token(s, 'holder');
  const body = { holder: 'comp-h', ttlS: 60 };
  const claimed = await api(s.tc.url, '/api/v1/leases/cam9', { method: 'PUT', token: holder.secret, body });
  assert.equal(claimed.status, 200, claimed.text);
  const first = workerPid(s);
  const killedAt = performance.now();
  process.kill(first, 'SIGKILL');
  // startSlave subscribed after the first media.started, so any one seen now comes from the restarted worker.
  await waitUntil(() => s.events.some((e) => e.type === 'media.started'), 20_000, 'media.started after the crash');
  assert.notEqual(workerPid(s), first);
  const recoveredMs = performance.now() - killedAt;
  t.diagnostic(`media plane back ${Math.round(recoveredMs)} ms after kill -9`);
  const health = await api(s.tc.url, '/health');
  assert.equal(health.status, 200);
  const node = (await api(s.tc.url, '/api/v1/node', { token: s.admin })).json as NodeInfo;
  const f2 = (cred: { id: string; secret: string }) =>
    `rtsp://${cred.id}:${cred.secret}@127.0.0.1:${node.media!.f2Port}/cam9`;
  const other = spawnPeer(t, '/usr/bin/ffmpeg', publisherArgs(f2(await token(s, 'after-crash')), 'tcp'));
  await waitUntil(() => !other.running(), 10_000, 'a token without the lease refused');
  assert.match((await other.done).stderr, /403/, 'a token without the lease gets 403 from the new worker');
  const pub = spawnPeer(t, '/usr/bin/ffmpeg', publisherArgs(f2(holder), 'tcp'));
  await waitUntil(
    () => s.events.some((e) => e.type === 'stream.online' && (e.data as { path: string }).path === 'cam9'),
    15_000,
    'cam9 online',
  );
  assert.ok(pub.running());
  const second = workerPid(s);
  await s.tc.close();
  assert.equal(isRunning(second), false, 'the worker is gone after stop');
  assert.equal(readProcess(second), undefined);
});

test('a camera pushing RTMP with its key is F1; a wrong key or an unknown camera is refused within 1 s', async (t) => {
  const s = await startSlave(t);
  const grant = await addCamera(s, 'gate');
  assert.equal(grant.publishUrl, `rtmp://127.0.0.1:${s.media.rtmpPort}/live/gate?key=${grant.publishKey}`);
  await new Promise((r) => setTimeout(r, 200)); // the access tables reach the worker over IPC
  const cam = spawnPeer(t, '/usr/bin/ffmpeg', rtmpPushArgs(grant.publishUrl));
  await waitUntil(
    () => s.events.some((e) => e.type === 'stream.online' && (e.data as { path: string }).path === 'gate'),
    15_000,
    'F1 gate online',
  );
  const { id, secret } = await token(s, 'reader');
  const read = await probe(t, `rtsp://${id}:${secret}@127.0.0.1:${s.media.f1Port}/gate`, PROBE_TCP);
  assert.equal(read.code, 0, read.stderr);
  assert.match(read.stdout, /codec_name=h264\|width=640/);
  assert.match(read.stdout, /codec_name=aac/);

  // Independent readers of F1: GStreamer over TCP and UDP, ffmpeg over TCP and UDP for 10 s in real time.
  const f1Url = `rtsp://${id}:${secret}@127.0.0.1:${s.media.f1Port}/gate`;
  const gst = [gstRead(t, f1Url, 'tcp'), gstRead(t, f1Url, 'udp')];
  const ff = { tcp: ffmpegRead(t, f1Url, 'tcp', 10), udp: ffmpegRead(t, f1Url, 'udp', 10) };
  for (const [i, g] of (await Promise.all(gst.map((p) => p.done))).entries()) {
    assertGstRead(t, g, `gst ${i === 0 ? 'tcp' : 'udp'}`);
  }
  for (const [transport, reader] of Object.entries(ff)) {
    const report = readReport(await reader.done);
    assertRealtimeRead(report, 10, `ffmpeg ${transport} F1`);
    // 25 fps: at least 225 frames in 10 s (video joins at the next key frame, GOP 1 s).
    assert.ok(report.frames >= 220 && report.frames <= 251, `ffmpeg ${transport}: ${report.frames} frames`);
    t.diagnostic(
      `ffmpeg ${transport}: ${report.frames} frames, speed ${report.speed}, steady ${report.steadyRate.toFixed(3)}`,
    );
  }

  for (const url of [
    `rtmp://127.0.0.1:${s.media.rtmpPort}/live/gate?key=wrong-key`,
    `rtmp://127.0.0.1:${s.media.rtmpPort}/live/nobody?key=${grant.publishKey}`,
  ]) {
    const started = performance.now();
    const bad = spawnPeer(t, '/usr/bin/ffmpeg', rtmpPushArgs(url));
    const result = await bad.done;
    assert.notEqual(result.code, 0, `refused: ${url.replace(/key=.*/, 'key=…')}`);
    t.diagnostic(`refused in ${Math.round(performance.now() - started)} ms (ffmpeg start included)`);
  }
  await waitUntil(() => s.events.filter((e) => e.type === 'media.auth-failed').length >= 2, 5000, 'two refusals');
  assert.ok(cam.running(), 'the legit camera keeps publishing');
  let listed: PlaneStream[] = [];
  for (let i = 0; i < 20 && !listed.some((x) => x.ingest?.videoCodec); i++) {
    listed = await streams(s);
    await new Promise((r) => setTimeout(r, 300));
  }
  const f1 = listed.find((x) => x.plane === 'f1' && x.stats.path === 'gate');
  assert.equal(f1?.ingest?.videoCodec, 'H264', JSON.stringify(listed));
});
