/**
 * The master's relays in the media plane, against real peers: a "slave" RTSP server fed by ffmpeg; the plane pulls
 * its stream as an F1 relay (served on F1 RTSP and over RTMP as `<site>/<camera>`) and as an F2 relay. ffprobe,
 * ffmpeg and GStreamer read the relays; RTMP plays need an API token.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { silentLogger } from '../../../app/log/logger.js';
import { MediaPlane } from '../../../app/media/worker/media-plane.js';
import type { AccessTables, FromWorker } from '../../../app/media/worker/protocol.js';
import { waitUntil } from '../../helpers/processes.js';
import {
  assertRealtimeRead,
  ffmpegRead,
  FFPROBE,
  assertGstRead,
  gstRead,
  publishTestStream,
  readReport,
  spawnPeer,
  startServer,
} from '../rtsp/peers.js';

const SECRET = 'cpt_0123456789ab_relay-test-secret-0001';

function tables(relays: AccessTables['relays']): AccessTables {
  const hash = createHash('sha256').update(SECRET).digest('base64url');
  // RTSP readers use a `rtsp.users` entry (Digest needs the realm's HA1 for tokens); RTMP plays use the token.
  const users = [{ user: 'viewer', password: 'viewer-pw', read: ['*'], publish: [] }];
  return { cameras: [], tokens: [{ id: '0123456789ab', hash, ha1: null }], users, pulls: [], relays };
}

test('a slave stream relayed as F1 (RTSP + RTMP) and F2: ffprobe, ffmpeg and GStreamer read it; RTMP asks a token', async (t) => {
  const slave = await startServer(t);
  await publishTestStream(t, slave, 'cam1', 'tcp');
  const source = `rtsp://127.0.0.1:${slave.port}/cam1`;
  const reports: FromWorker[] = [];
  const plane = new MediaPlane(
    { host: '127.0.0.1', rtmpPort: 0, f1Port: 0, f2Port: 0 },
    tables([
      { plane: 'f1', path: 'site1/cam1', url: source, user: null, password: null },
      { plane: 'f2', path: 'site1/cam1', url: source, user: null, password: null },
    ]),
    silentLogger(),
    (m) => reports.push(m),
  );
  await plane.start();
  t.after(() => plane.stop());
  const ports = plane.actualPorts;
  const online = () => plane.streams().filter((s) => s.stats.path === 'site1/cam1' && s.stats.packetsIn > 50);
  await waitUntil(() => online().length === 2, 15_000, 'both relays flowing');
  assert.deepEqual(
    plane
      .relayStates()
      .map((r) => [r.plane, r.path, r.state])
      .sort(),
    [
      ['f1', 'site1/cam1', 'playing'],
      ['f2', 'site1/cam1', 'playing'],
    ],
  );

  const rtmp = `rtmp://127.0.0.1:${ports.rtmpPort}/site1/cam1`;
  const probeArgs = ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'compact'];
  const probe = async (url: string) => (await spawnPeer(t, FFPROBE, [...probeArgs, url]).done).stdout;
  const overRtmp = await probe(`${rtmp}?token=${SECRET}`);
  assert.match(overRtmp, /codec_name=h264\|width=640\|height=360/);
  assert.match(overRtmp, /codec_name=aac/);
  const f2 = `rtsp://viewer:viewer-pw@127.0.0.1:${ports.f2Port}/site1/cam1`;
  assert.match(await probe(f2), /codec_name=h264\|width=640\|height=360/);

  // Refused: no token, a wrong one, a path that is not relayed.
  for (const url of [
    rtmp,
    `${rtmp}?token=cpt_0123456789ab_wrong-secret-000000`,
    `rtmp://127.0.0.1:${ports.rtmpPort}/site1/nope?token=${SECRET}`,
  ]) {
    const denied = await spawnPeer(t, FFPROBE, ['-v', 'error', '-rw_timeout', '5000000', url]).done;
    assert.notEqual(denied.code, 0, `${url.replace(SECRET, '***')} was played`);
  }
  assert.equal(plane.counters().rtmp?.playsRefused, 3);

  // 8 s of RTMP in real time, while GStreamer reads F2 and ffmpeg reads F1 over RTSP.
  const seconds = 8;
  const rtmpRead = ffmpegRead(t, `${rtmp}?token=${SECRET}`, null, seconds);
  const f1 = `rtsp://viewer:viewer-pw@127.0.0.1:${ports.f1Port}/site1/cam1`;
  const rtspRead = ffmpegRead(t, f1, 'tcp', seconds);
  const gst = gstRead(t, f2, 'tcp');
  const [rtmpReport, rtspReport] = (await Promise.all([rtmpRead.done, rtspRead.done])).map(readReport);
  assertRealtimeRead(rtmpReport!, seconds, 'ffmpeg over RTMP');
  assertRealtimeRead(rtspReport!, seconds, 'ffmpeg over F1 RTSP');
  assertGstRead(t, await gst.done);
  t.diagnostic(
    `RTMP relay: ${rtmpReport!.frames} frames, speed ${rtmpReport!.speed}, steady ${rtmpReport!.steadyRate.toFixed(3)}`,
  );
  assert.ok(rtmpReport!.frames >= seconds * 25 - 30, `${rtmpReport!.frames} frames over RTMP`);
});
