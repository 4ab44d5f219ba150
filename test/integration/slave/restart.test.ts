/**
 * A camera's RTMP publisher killed with -9 and restarted: F1 is back as soon as the new publisher streams, and F1
 * readers attached before the kill (ffmpeg over TCP and UDP) keep running and decode the new pictures (red).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitUntil } from '../../helpers/processes.js';
import { FFMPEG, ffmpegRead, spawnPeer } from '../rtsp/peers.js';
import { asRed, pictureReader, redPictures } from '../rtsp/pictures.js';
import { addCamera, rtmpPushArgs, rtspUrl, startSlave, token, waitOnline } from './slave.js';

test('RTMP camera killed and restarted after 3 s: F1 readers continue and decode the new stream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-slave-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await startSlave(t);
  const grant = await addCamera(s, 'door');
  await new Promise((r) => setTimeout(r, 200)); // the access tables reach the worker over IPC
  const camera = spawnPeer(t, FFMPEG, rtmpPushArgs(grant.publishUrl));
  await waitOnline(s, 'f1', 'door');
  const url = rtspUrl(s, 'f1', 'door', await token(s, 'viewer'));
  const files = { tcp: join(dir, 'tcp.rgb'), udp: join(dir, 'udp.rgb') };
  const readers = { tcp: pictureReader(t, url, 'tcp', files.tcp), udp: pictureReader(t, url, 'udp', files.udp) };
  await waitUntil(
    () => Object.values(files).every((f) => redPictures(f).length >= 50),
    15_000,
    'both readers decode the first camera',
  );

  const count = (type: string) => s.events.filter((e) => e.type === type).length;
  const onlineBefore = count('stream.online');
  process.kill(-camera.pid, 'SIGKILL');
  await waitUntil(() => count('stream.offline') === 1, 5000, 'F1 offline after the kill');
  await new Promise((r) => setTimeout(r, 3000));
  const restartedAt = performance.now();
  spawnPeer(t, FFMPEG, asRed(rtmpPushArgs(grant.publishUrl)));
  await waitUntil(() => count('stream.online') > onlineBefore, 10_000, 'F1 back online');
  const backMs = Math.round(performance.now() - restartedAt);
  t.diagnostic(`F1 back ${backMs} ms after the new publisher was spawned (ffmpeg start-up included)`);
  assert.ok(backMs < 5000, `F1 back after ${backMs} ms`);

  await waitUntil(
    () => Object.values(files).every((f) => redPictures(f).filter(Boolean).length >= 50),
    15_000,
    'both readers decode 2 s of the new camera’s red pictures',
  );
  for (const [name, reader] of Object.entries(readers)) {
    assert.ok(reader.running(), `${name} reader kept running across the restart`);
    const pictures = redPictures(files[name as keyof typeof files]);
    const firstRed = pictures.indexOf(true);
    assert.ok(pictures.slice(firstRed).every(Boolean), `${name}: once red, only red`);
    t.diagnostic(`${name}: ${firstRed} pictures before the restart, ${pictures.length - firstRed} after`);
    process.kill(-reader.pid, 'SIGKILL');
    assert.equal((await reader.done).stderr.trim(), '', `${name} reader: no decode or timestamp errors`);
  }
});

test('rtsp.publisherGraceS 0: readers are closed as soon as the camera leaves', async (t) => {
  const s = await startSlave(t, { flags: { 'rtsp.publisherGraceS': '0' } });
  const grant = await addCamera(s, 'door');
  await new Promise((r) => setTimeout(r, 200));
  const camera = spawnPeer(t, FFMPEG, rtmpPushArgs(grant.publishUrl));
  await waitOnline(s, 'f1', 'door');
  const reader = ffmpegRead(t, rtspUrl(s, 'f1', 'door', await token(s, 'viewer')), 'tcp', 60);
  await new Promise((r) => setTimeout(r, 3000));
  assert.ok(reader.running());
  const killedAt = performance.now();
  process.kill(-camera.pid, 'SIGKILL');
  const result = await reader.done;
  const endedMs = Math.round(performance.now() - killedAt);
  t.diagnostic(`reader ended ${endedMs} ms after the camera was killed`);
  assert.equal(result.signal, null, 'the reader ended by itself (the server closed it), not killed by the test');
  assert.ok(endedMs < 10_000);
});
