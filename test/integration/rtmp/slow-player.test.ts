/**
 * allowPlay: an RTMP player that stops reading is dropped once its socket holds more than playerBufferBytes
 * unsent (NMS itself would queue without bound); the ingest's RSS stays bounded; an ffmpeg reader next to it keeps
 * real time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FFMPEG, readRate, RIGHT_KEY, spawnPeer, startHost, waitFlowing, type HostReport } from './peers.js';
import { RawRtmpClient } from './raw-rtmp-client.js';

test('a paused RTMP player is dropped; RSS stays bounded; another reader keeps speed ≈ 1', async (t) => {
  const bound = 256 * 1024;
  const host = await startHost(t, { keys: { cam1: RIGHT_KEY }, allowPlay: true, limits: { playerBufferBytes: bound } });
  // A higher bitrate than the reference publisher so that the kernel's socket buffers fill within seconds.
  const ffmpeg = spawnPeer(t, FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-b:v', '8M'],
    ...['-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${host.port}/live/cam1?key=${RIGHT_KEY}`],
  ]);
  const before = await waitFlowing(host, 'cam1');
  t.diagnostic(`publisher: ${before.streams[0]?.bitrateKbps} kbit/s; ingest RSS ${before.rssMb.toFixed(0)} MB`);

  const stuck = await RawRtmpClient.open(t, host.port);
  await stuck.handshake();
  stuck.connect('live', `rtmp://127.0.0.1:${host.port}/live`);
  stuck.play('cam1');
  await stuck.waitFor(() => stuck.received > 100_000, 5000, 'media to the stuck player');
  stuck.socket.pause();
  const pausedAt = performance.now();

  const reader = spawnPeer(t, FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', `rtmp://127.0.0.1:${host.port}/live/cam1`],
    ...['-t', '5', '-f', 'null', '-', '-progress', 'pipe:1', '-nostats'],
  ]);

  let peakRss = before.rssMb;
  let last: HostReport = before;
  while (last.counters.playersDropped === 0 && performance.now() - pausedAt < 30_000) {
    await sleep(250);
    last = await host.report();
    peakRss = Math.max(peakRss, last.rssMb);
  }
  const droppedAfter = performance.now() - pausedAt;
  t.diagnostic(`stuck player dropped ${Math.round(droppedAfter)} ms after it stopped reading`);
  assert.equal(last.counters.playersDropped, 1, 'the stuck player was not dropped within 30 s');
  stuck.socket.resume();
  assert.equal(await stuck.waitClosed(5000), true, 'the dropped player was disconnected');

  const result = await reader.done;
  for (let i = 0; i < 4; i++) peakRss = Math.max(peakRss, (await host.report()).rssMb);
  const rate = readRate(result);
  t.diagnostic(
    `ffmpeg reader: exit ${result.code}, ${rate.outS} s read, speed ${rate.speed}x (GOP replay included), steady ${rate.steadyRate.toFixed(3)}`,
  );
  t.diagnostic(`ingest RSS: ${before.rssMb.toFixed(0)} MB before, peak ${peakRss.toFixed(0)} MB`);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(rate.outS >= 4.5, `read ${rate.outS} s`);
  assert.ok(rate.speed >= 0.9, `reader speed ${rate.speed}`);
  assert.ok(rate.steadyRate >= 0.85 && rate.steadyRate <= 1.15, `steady rate ${rate.steadyRate}`);
  assert.ok(peakRss - before.rssMb < 64, `RSS grew by ${peakRss - before.rssMb} MB`);
  assert.ok(ffmpeg.running(), 'the publisher is unaffected');
  const final = await host.report();
  assert.equal(final.streams[0]?.players, 0, 'both players are gone');
  assert.ok(final.tags.cam1!.videoPerSecond >= 20);
});
