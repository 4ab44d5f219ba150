/**
 * A reader of F1 that stops reading: DESCRIBE/SETUP (TCP interleaved)/PLAY of a live camera, then its socket is
 * paused for 60 s. The worker must drop it (its queue or stall bound), its memory must stay bounded meanwhile, and
 * an ffmpeg reader of the same camera must not notice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaCounters } from '../../../app/media/worker/protocol.js';
import { api, until } from '../../helpers/http.js';
import { sampleUsage } from '../../helpers/proc-usage.js';
import { waitUntil } from '../../helpers/processes.js';
import { assertRealtimeRead, ffmpegRead, readReport } from '../rtsp/peers.js';
import { RawClient } from '../rtsp/raw-client.js';
import { pushCamera, rtspUrl, startSlave, streams, token, workerPid } from './slave.js';

const PAUSE_S = 60;
const RSS_BOUND_MB = 40;

test('a paused F1 reader is dropped within 60 s, the worker RSS stays bounded, another reader keeps real time', async (t) => {
  const s = await startSlave(t);
  await pushCamera(t, s, 'cam1');
  const cred = await token(s, 'reader');
  const readers = async () => (await streams(s)).find((x) => x.plane === 'f1' && x.stats.path === 'cam1')?.stats;

  const readSeconds = PAUSE_S + 5;
  const other = ffmpegRead(t, rtspUrl(s, 'f1', 'cam1', cred), 'tcp', readSeconds);

  // The stuck reader: Basic auth with the token as password (any user), both tracks interleaved, PLAY, first frames.
  const url = `rtsp://127.0.0.1:${s.media.f1Port}/cam1`;
  const headers = { Authorization: `Basic ${Buffer.from(`stuck:${cred.secret}`).toString('base64')}` };
  const stuck = await RawClient.open(t, s.media.f1Port);
  assert.equal((await stuck.request('DESCRIBE', url, { ...headers, Accept: 'application/sdp' })).status, 200);
  let session = '';
  for (const track of [0, 1]) {
    const transport = `RTP/AVP/TCP;unicast;interleaved=${track * 2}-${track * 2 + 1}`;
    const res = await stuck.request('SETUP', `${url}/trackID=${track}`, {
      ...headers,
      Transport: transport,
      ...(session ? { Session: session } : {}),
    });
    assert.equal(res.status, 200, `SETUP track ${track}`);
    session = res.get('Session')!.split(';')[0]!;
  }
  assert.equal((await stuck.request('PLAY', url, { ...headers, Session: session })).status, 200);
  await waitUntil(() => stuck.frameBytes > 0, 5000, 'first frames');
  await until(async () => (await readers())?.readers === 2, 10_000, 'both readers counted');
  const pid = workerPid(s);
  const usage = sampleUsage(t, pid, 1000);
  stuck.socket.pause();
  const pausedAt = performance.now();

  // Dropped: the worker's next report (every 2 s) counts one reader fewer than the two.
  let dropMs: number | undefined;
  while (performance.now() - pausedAt < PAUSE_S * 1000) {
    const n = (await readers())?.readers;
    if (n !== undefined && n < 2 && dropMs === undefined) dropMs = performance.now() - pausedAt;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const u = usage.stop();
  t.diagnostic(
    `stuck reader dropped ${dropMs === undefined ? 'never' : `after ~${(dropMs / 1000).toFixed(1)} s`} (API, 2 s reports)`,
  );
  t.diagnostic(
    `worker RSS over ${PAUSE_S} s: ${u.baselineRssMb.toFixed(1)} → max ${u.maxRssMb.toFixed(1)} MB (last ${u.lastRssMb.toFixed(1)}), ` +
      `CPU ${u.cpuPercent.toFixed(0)}% of a core`,
  );
  assert.ok(dropMs !== undefined, `the stuck reader was not dropped within ${PAUSE_S} s`);
  assert.equal(workerPid(s), pid, 'the worker was not restarted');
  assert.ok(u.maxRssMb - u.baselineRssMb < RSS_BOUND_MB, `worker RSS grew by ${u.maxRssMb - u.baselineRssMb} MB`);

  stuck.socket.resume();
  assert.equal(await stuck.waitClosed(5000), true, 'the server closed the dropped reader');
  const report = readReport(await other.done);
  t.diagnostic(`other reader: speed ${report.speed}, steady ${report.steadyRate.toFixed(3)}`);
  await t.test('the other ffmpeg reader keeps real time without errors', () =>
    assertRealtimeRead(report, readSeconds, 'ffmpeg reader next to the stuck one'),
  );

  await t.test('the drop is counted where an operator sees it (API and /metrics)', async () => {
    await new Promise((r) => setTimeout(r, 2500)); // the worker reports its totals every 2 s
    const res = await api(s.tc.url, '/api/v1/streams', { token: s.admin });
    const { counters } = res.json as { counters: MediaCounters };
    assert.equal(counters.f1.readersDropped, 1, JSON.stringify(counters.f1));
    const metrics = (await api(s.tc.url, '/metrics', { token: s.admin })).text;
    assert.match(metrics, /^cupola_media_events_total\{port="f1",kind="readers_dropped"\} 1$/m);
  });
});
