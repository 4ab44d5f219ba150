/**
 * The F1 bridge end to end: ffmpeg's FLV (what an RTMP camera sends) → FlvToRtpBridge → a real RtspServer path,
 * read by ffprobe, ffmpeg (TCP and UDP) and GStreamer (video and audio decoded) over loopback.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertRealtimeRead,
  ffmpegRead,
  GST,
  assertGstRead,
  gstRead,
  probe,
  type PeerResult,
  readReport,
  spawnPeer,
  startServer,
} from '../rtsp/peers.js';
import { startBridgedStream } from './bridged-stream.js';

const READ_S = 10;

test('H.264 + AAC from FLV: ffprobe, ffmpeg tcp/udp for 10 s in real time, GStreamer video and audio', async (t) => {
  const server = await startServer(t);
  const stream = await startBridgedStream(t, server, 'cam1');
  const url = `rtsp://127.0.0.1:${server.port}/cam1`;

  const probed = await probe(t, url, ['-show_entries', 'stream=sample_rate,channels']);
  assert.equal(probed.code, 0, probed.stderr);
  assert.match(probed.stdout, /codec_name=h264\|width=640\|height=360/);
  assert.match(probed.stdout, /codec_name=aac\|.*sample_rate=48000\|channels=1/);

  const readers = [ffmpegRead(t, url, 'tcp', READ_S), ffmpegRead(t, url, 'udp', READ_S)];
  const gstVideo = gstRead(t, url, 'tcp');
  // Both tracks decoded for 8 s, then SIGINT (-e: EOS, clean stop). Not `num-buffers`: with two sinks that ends in
  // rtspsrc's partial-EOS handling, which CI saw fail on the way down once and hang once. -v prints each buffer a
  // sink gets, which is what is counted.
  const gstBoth = spawnPeer(t, 'timeout', [
    ...['--preserve-status', '-k', '5', '-s', 'INT', '8', GST, '-e', '-v'],
    ...['rtspsrc', `location=${url}`, 'protocols=tcp', 'name=src'],
    ...['src.', '!', 'application/x-rtp,media=video', '!', 'rtph264depay', '!', 'h264parse', '!', 'avdec_h264'],
    ...['!', 'fakesink', 'name=vsink', 'silent=false'],
    ...['src.', '!', 'application/x-rtp,media=audio', '!', 'rtpmp4gdepay', '!', 'aacparse', '!', 'avdec_aac'],
    ...['!', 'fakesink', 'name=asink', 'silent=false'],
  ]);
  const [tcp, udp] = (await Promise.all(readers.map((r) => r.done))).map(readReport);
  const [video, both] = await Promise.all([gstVideo.done, gstBoth.done]);
  assertGstRead(t, video, 'gst video');
  assertGstDecodedBoth(t, both);
  for (const [name, report] of [['ffmpeg tcp', tcp!] as const, ['ffmpeg udp', udp!] as const]) {
    assertRealtimeRead(report, READ_S, name);
    // 250 at most. A reader gets audio at once but video from the next key frame (GOP 1 s), and -t counts from
    // the earlier of the two: so at least 225, less a small margin.
    assert.ok(report.frames >= 220 && report.frames <= 251, `${name}: ${report.frames} frames`);
    t.diagnostic(`${name}: ${report.frames} frames, speed ${report.speed}, steady ${report.steadyRate.toFixed(3)}`);
  }

  const stats = stream.bridge.stats();
  t.diagnostic(JSON.stringify(stats));
  assert.equal(stats.state, 'live');
  assert.equal(stats.publishes, 1);
  assert.deepEqual([stats.video.codec, stats.video.width, stats.video.height], ['avc1.42c01e', 640, 360]);
  assert.equal(stats.video.keyframeIntervalFrames, 25);
  assert.ok(Math.abs((stats.video.fps ?? 0) - 25) < 0.5, `fps ${stats.video.fps}`);
  assert.deepEqual([stats.audio?.codec, stats.audio?.sampleRate, stats.audio?.channels], ['mp4a.40.2', 48000, 1]);
  assert.deepEqual([stats.invalid, stats.unsupported, stats.discontinuities, stats.audio?.reanchors], [0, 0, 0, 0]);
  // The server dropped, timed out or refused nobody (a teardown error of gst above would otherwise be ours).
  const { counters } = server;
  assert.deepEqual([counters.readersDropped, counters.sessionsTimedOut, counters.badRequests], [0, 0, 0]);
  const [path] = server.paths();
  assert.deepEqual(path?.publisher, { remote: 'internal', transport: 'internal' });
  assert.equal(path?.packetsDropped, 0);
  assert.equal(stream.stderr(), '');
});

/**
 * GStreamer decoded both tracks: at least 5 s of pictures (25 fps) and of AAC frames (48 kHz / 1024) in its 8 s,
 * counted from the buffers its sinks report (-v), and no error before it was told to stop.
 */
function assertGstDecodedBoth(t: { diagnostic(s: string): void }, both: PeerResult): void {
  const count = (sink: string) => both.stdout.split(`${sink}: last-message = chain`).length - 1;
  const [video, audio] = [count('vsink'), count('asink')];
  const output = `${both.stdout.slice(-1500)}\n${both.stderr.slice(-1500)}`;
  t.diagnostic(`gst video + audio: ${video} pictures, ${audio} AAC frames decoded in 8 s`);
  assert.ok(video >= 125 && audio >= 230, `gst video + audio: ${video} pictures, ${audio} AAC frames: ${output}`);
  // An error stops gst-launch at once, before our SIGINT's EOS; one after it is rtspsrc cancelling its own PAUSE on
  // the way down (see assertGstRead), and the server's counters below say whether we dropped anybody.
  const stoppedByUs = both.stdout.includes('EOS received');
  assert.ok(stoppedByUs || !/ERROR:/.test(both.stderr), `gst error while playing: ${output}`);
}

test('video only, with B-frames (composition time offsets): ffprobe, ffmpeg and GStreamer read it', async (t) => {
  const server = await startServer(t);
  const encode = [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '50', '-an'],
  ];
  const stream = await startBridgedStream(t, server, 'site/cam2', encode);
  const url = `rtsp://127.0.0.1:${server.port}/site/cam2`;
  const probed = await probe(t, url);
  assert.equal(probed.code, 0, probed.stderr);
  assert.equal(probed.stdout.trim(), 'stream|codec_name=h264|width=640|height=360');

  const reader = ffmpegRead(t, url, 'tcp', 6);
  const gst = gstRead(t, url, 'udp');
  const report = readReport(await reader.done);
  assertGstRead(t, await gst.done, 'gst udp');
  assertRealtimeRead(report, 6, 'ffmpeg tcp, video only');
  t.diagnostic(`${report.frames} frames, speed ${report.speed}, steady ${report.steadyRate.toFixed(3)}`);
  const stats = stream.bridge.stats();
  assert.equal(stats.audio, undefined);
  assert.equal(stats.video.keyframeIntervalFrames, 50);
  assert.doesNotMatch(stream.bridge.sdp ?? '', /m=audio/);
});
