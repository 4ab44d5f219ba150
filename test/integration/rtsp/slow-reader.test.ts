/**
 * A reader that stops reading (PLAY over TCP, then its socket paused) is dropped within a bounded time; memory
 * stays bounded and another reader is unaffected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RtspServer, RtspServerEvents } from '../../../app/media/rtsp/index.js';
import { waitUntil } from '../../helpers/processes.js';
import type { Scope } from '../../helpers/core.js';
import { assertRealtimeRead, ffmpegRead, publishTestStream, readReport, startServer } from './peers.js';
import { RawClient } from './raw-client.js';

/** DESCRIBE, SETUP both tracks interleaved, PLAY; then the client stops reading. */
async function stuckReader(t: Scope, server: RtspServer, path: string): Promise<RawClient> {
  const url = `rtsp://127.0.0.1:${server.port}/${path}`;
  const client = await RawClient.open(t, server.port);
  assert.equal((await client.request('DESCRIBE', url, { Accept: 'application/sdp' })).status, 200);
  const s1 = await client.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  assert.equal(s1.status, 200);
  assert.equal(s1.get('Transport'), 'RTP/AVP/TCP;unicast;interleaved=0-1');
  const session = s1.get('Session')!.split(';')[0]!;
  assert.match(s1.get('Session')!, /;timeout=\d+$/);
  const headers = { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session };
  assert.equal((await client.request('SETUP', `${url}/trackID=1`, headers)).status, 200);
  const play = await client.request('PLAY', url, { Session: session, Range: 'npt=0.000-' });
  assert.equal(play.status, 200);
  assert.equal(play.get('Range'), 'npt=0.000-');
  assert.match(play.get('RTP-Info') ?? '', new RegExp(`^url=${url}/trackID=0;rtptime=\\d+`));
  await waitUntil(() => client.frameBytes > 0, 5000, 'first frames');
  client.socket.pause();
  return client;
}

/** Samples the RSS of this process (where the server runs) until stopped; returns the peak growth in MB. */
function rssWatch(): { stop(): number } {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  return {
    stop: () => {
      clearInterval(timer);
      return (peak - base) / 1024 / 1024;
    },
  };
}

test('a TCP reader that stops reading is dropped by its queue bound; another reader keeps real time', async (t) => {
  const bound = 256 * 1024;
  const server = await startServer(t, { limits: { readerBufferBytes: bound, readerStallMs: 30_000 } });
  const dropped: RtspServerEvents['reader-dropped'][] = [];
  server.on('reader-dropped', (e) => dropped.push(e));
  await publishTestStream(t, server, 'cam1', 'tcp');
  const reader = ffmpegRead(t, `rtsp://127.0.0.1:${server.port}/cam1`, 'tcp', 10);
  const rss = rssWatch();
  const started = Date.now();
  const stuck = await stuckReader(t, server, 'cam1');
  const tookMs = await waitUntil(() => dropped.length > 0, 30_000, 'the stuck reader dropped', 50);
  const growthMb = rss.stop();
  t.diagnostic(`stuck reader dropped after ${Date.now() - started} ms (${Math.round(tookMs)} ms after pausing)`);
  t.diagnostic(`RSS growth while stuck: ${growthMb.toFixed(1)} MB`);
  assert.match(dropped[0]!.reason, /bytes queued/);
  assert.equal(dropped[0]!.path, 'cam1');
  assert.equal(server.counters.readersDropped, 1);
  assert.ok(growthMb < 64, `RSS grew by ${growthMb} MB`);
  stuck.socket.resume();
  assert.equal(await stuck.waitClosed(5000), true, 'the dropped reader was disconnected');

  const report = readReport(await reader.done);
  assertRealtimeRead(report, 10, 'ffmpeg reader next to the stuck one');
  t.diagnostic(`other reader speed ${report.speed} steady ${report.steadyRate.toFixed(3)}`);
  assert.equal(server.paths()[0]?.readers, 0);
});

test('a stuck reader under a large queue bound is dropped by the stall timeout', async (t) => {
  const server = await startServer(t, { limits: { readerBufferBytes: 256 * 1024 * 1024, readerStallMs: 2000 } });
  const dropped: RtspServerEvents['reader-dropped'][] = [];
  server.on('reader-dropped', (e) => dropped.push(e));
  // An in-process publisher bursts 16 MB: the kernel buffers fill at once, then nothing moves.
  const sdp =
    'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=burst\r\nt=0 0\r\nm=application 0 RTP/AVP 96\r\na=rtpmap:96 X-TEST/90000\r\n';
  const publisher = server.publish('burst', sdp);
  const packet = Buffer.alloc(1400);
  packet[0] = 0x80;
  const client = await RawClient.open(t, server.port);
  const url = `rtsp://127.0.0.1:${server.port}/burst`;
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  assert.equal(setup.status, 200);
  const play = await client.request('PLAY', url, { Session: setup.get('Session')!.split(';')[0]! });
  assert.equal(play.status, 200);
  client.socket.pause();
  for (let i = 0; i < 12_000; i++) publisher.writeRtp(0, packet);
  const tookMs = await waitUntil(() => dropped.length > 0, 15_000, 'the stuck reader dropped', 50);
  t.diagnostic(`dropped by the stall timeout ${Math.round(tookMs)} ms after a 16 MB burst`);
  assert.match(dropped[0]!.reason, /no progress for \d+ ms/);
  assert.ok(tookMs < 10_000);
  client.socket.resume();
  assert.equal(await client.waitClosed(5000), true);
  assert.equal(server.paths()[0]?.readers, 0);
});
