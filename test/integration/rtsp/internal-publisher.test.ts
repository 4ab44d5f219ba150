/**
 * The in-process publisher API (what the RTMP→RTSP bridge will use): ffmpeg sends plain RTP to the test, which
 * feeds it into the server with publish(); ffprobe and GStreamer read the path like any other.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RtspServerEvents } from '../../../app/media/rtsp/index.js';
import { tempDir, type Scope } from '../../helpers/core.js';
import { waitUntil } from '../../helpers/processes.js';
import { assertGstRead, FFMPEG, gstRead, probe, spawnPeer, startServer } from './peers.js';

/** A bound UDP socket pair (RTP, RTCP = RTP + 1) on loopback, closed in t.after. */
async function udpPair(t: Scope): Promise<[Socket, Socket]> {
  for (;;) {
    const rtp = createSocket('udp4');
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
    const rtcp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      rtcp.once('error', () => resolve(false));
      rtcp.bind(rtp.address().port + 1, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      t.after(() => {
        rtp.close();
        rtcp.close();
      });
      return [rtp, rtcp];
    }
    rtp.close();
  }
}

test('publish() from inside the process: readers see H.264 + AAC; close() and takeover end it', async (t) => {
  const server = await startServer(t);
  const offline: RtspServerEvents['path-offline'][] = [];
  server.on('path-offline', (e) => offline.push(e));
  const [video, videoRtcp] = await udpPair(t);
  const [audio, audioRtcp] = await udpPair(t);
  const sdpFile = join(tempDir(t), 'out.sdp');
  const rtp = (s: Socket) => `rtp://127.0.0.1:${s.address().port}`;
  spawnPeer(t, FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000'],
    ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25'],
    ...['-f', 'rtp', rtp(video), '-map', '1:a', '-c:a', 'aac', '-f', 'rtp', rtp(audio), '-sdp_file', sdpFile],
  ]);
  await waitUntil(() => existsSync(sdpFile) && readFileSync(sdpFile, 'utf8').includes('m=audio'), 10_000, 'SDP');

  const handle = server.publish('bridge/cam1', readFileSync(sdpFile, 'utf8'));
  const feed = (track: number, isRtcp: boolean) => (packet: Buffer) => {
    if (isRtcp) handle.writeRtcp(track, packet);
    else handle.writeRtp(track, packet);
  };
  video.on('message', feed(0, false));
  videoRtcp.on('message', feed(0, true));
  audio.on('message', feed(1, false));
  audioRtcp.on('message', feed(1, true));
  await waitUntil(() => (server.paths()[0]?.packetsIn ?? 0) > 50, 10_000, 'packets flowing');

  const url = `rtsp://127.0.0.1:${server.port}/bridge/cam1`;
  const probed = await probe(t, url);
  assert.equal(probed.code, 0, probed.stderr);
  assert.match(probed.stdout, /codec_name=h264\|width=640\|height=360/);
  assert.match(probed.stdout, /codec_name=aac/);
  assertGstRead(t, await gstRead(t, url, 'tcp').done);
  const [stats] = server.paths();
  assert.deepEqual(stats?.publisher, { remote: 'internal', transport: 'internal' });

  // Another publisher takes the path over (it continues the path: no offline in between); the first handle learns
  // it from `closed` and writeRtp().
  const sdp = readFileSync(sdpFile, 'utf8');
  const second = server.publish('bridge/cam1', sdp);
  assert.equal(handle.closed, true);
  assert.equal(handle.writeRtp(0, Buffer.alloc(12)), false);
  assert.equal(second.writeRtp(0, Buffer.alloc(12)), true);
  second.close();
  second.close();
  assert.equal(second.closed, true);
  assert.deepEqual(server.paths(), []);
  assert.deepEqual(
    offline.map((e) => e.reason),
    ['publisher closed'],
  );
  assert.throws(() => server.publish('../x', sdp), /invalid RTSP path name/);
  assert.throws(() => server.publish('x', 'not an sdp'), /cannot publish x: SDP must start with v=0/);
});
