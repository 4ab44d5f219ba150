/**
 * Real peers end to end: ffmpeg publishes (ANNOUNCE/RECORD over TCP, then over UDP); ffprobe, ffmpeg and
 * GStreamer read over TCP and UDP at the same time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RtspServerEvents } from '../../../app/media/rtsp/index.js';
import { assertRealtimeRead, ffmpegRead, gstRead, probe, publishTestStream, readReport, startServer } from './peers.js';

const READ_S = 10;

test('TCP publisher: ffprobe, ffmpeg (tcp, udp) for 10 s and GStreamer (tcp, udp) read it', async (t) => {
  const server = await startServer(t);
  const online: RtspServerEvents['path-online'][] = [];
  server.on('path-online', (e) => online.push(e));
  await publishTestStream(t, server, 'cam1', 'tcp');
  const url = `rtsp://127.0.0.1:${server.port}/cam1`;

  const probed = await probe(t, url);
  assert.equal(probed.code, 0, probed.stderr);
  assert.match(probed.stdout, /codec_name=h264\|width=640\|height=360/);
  assert.match(probed.stdout, /codec_name=aac/);

  const readers = [ffmpegRead(t, url, 'tcp', READ_S), ffmpegRead(t, url, 'udp', READ_S)];
  const gst = [gstRead(t, url, 'tcp'), gstRead(t, url, 'udp')];
  const [tcp, udp] = (await Promise.all(readers.map((r) => r.done))).map(readReport);
  for (const [i, g] of (await Promise.all(gst.map((p) => p.done))).entries()) {
    assert.equal(g.code, 0, `gst ${i === 0 ? 'tcp' : 'udp'}: ${g.stderr.slice(-2000)}`);
  }
  assertRealtimeRead(tcp!, READ_S, 'ffmpeg tcp');
  assertRealtimeRead(udp!, READ_S, 'ffmpeg udp');
  t.diagnostic(`tcp speed ${tcp!.speed} steady ${tcp!.steadyRate.toFixed(3)} frames ${tcp!.frames}`);
  t.diagnostic(`udp speed ${udp!.speed} steady ${udp!.steadyRate.toFixed(3)} frames ${udp!.frames}`);

  assert.deepEqual(
    online.map((e) => [e.path, e.transport, e.codecs]),
    [['cam1', 'tcp', ['H264/90000', 'MPEG4-GENERIC/48000']]],
  );
  const [stats] = server.paths();
  assert.ok(stats);
  assert.deepEqual(
    stats.tracks.map((tr) => [tr.media, tr.codec, tr.clockRate]),
    [
      ['video', 'H264', 90000],
      ['audio', 'MPEG4-GENERIC', 48000],
    ],
  );
  assert.equal(stats.publisher?.transport, 'tcp');
  // Live figures from the RTP alone (no decoder): 640x360 from the SDP's SPS, 25 fps, a key frame every 25 pictures.
  const [video, audio] = stats.tracks;
  t.diagnostic(JSON.stringify({ video, audio, in: stats.bitrateInKbps, out: stats.bitrateOutKbps }));
  assert.deepEqual([video?.width, video?.height, video?.keyframeIntervalFrames], [640, 360, 25]);
  assert.ok(Math.abs((video?.fps ?? 0) - 25) < 1.5, `fps ${video?.fps}`);
  assert.ok(Math.abs((video?.keyframeIntervalS ?? 0) - 1) < 0.01, `key frame interval ${video?.keyframeIntervalS} s`);
  assert.ok((audio?.bitrateKbps ?? 0) > 30 && audio?.fps === null, JSON.stringify(audio));
  assert.equal(stats.bitrateInKbps, (video?.bitrateKbps ?? 0) + (audio?.bitrateKbps ?? 0));
  assert.ok(stats.packetsIn > 1000 && stats.bytesIn > 1_000_000, JSON.stringify(stats));
  assert.ok(stats.packetsOut > stats.packetsIn, 'several readers got the packets');
  assert.equal(stats.packetsDropped, 0);
});

test('UDP publisher: ffprobe, ffmpeg (tcp) and GStreamer (udp) read it', async (t) => {
  const server = await startServer(t);
  await publishTestStream(t, server, 'site/cam2', 'udp');
  const url = `rtsp://127.0.0.1:${server.port}/site/cam2`;
  const probed = await probe(t, url);
  assert.equal(probed.code, 0, probed.stderr);
  assert.match(probed.stdout, /codec_name=h264\|width=640\|height=360/);
  assert.match(probed.stdout, /codec_name=aac/);

  const reader = ffmpegRead(t, url, 'tcp', 6);
  const gst = gstRead(t, url, 'udp');
  const report = readReport(await reader.done);
  const g = await gst.done;
  assert.equal(g.code, 0, g.stderr.slice(-2000));
  assertRealtimeRead(report, 6, 'ffmpeg tcp from a UDP publisher');
  const [stats] = server.paths();
  assert.equal(stats?.publisher?.transport, 'udp');
  assert.ok((stats?.packetsIn ?? 0) > 500);
});
