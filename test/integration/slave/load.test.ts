/**
 * Load on one slave: 20 cameras push 2 Mbit/s each over RTMP and each has one F1 reader over TCP for 60 s; every
 * reader must get its stream in real time, without errors. On 2 cores nothing is encoded live: one clip is encoded
 * once and pushed 20 times in a loop with -c copy; the readers copy too (-f null), so the CPU left is the worker's.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, type Scope } from '../../helpers/core.js';
import { sampleUsage } from '../../helpers/proc-usage.js';
import { FFMPEG, readReport, spawnPeer, type Peer } from '../rtsp/peers.js';
import { addCamera, copyRead, rtspUrl, startSlave, token, waitOnline, workerPid } from './slave.js';

const CAMERAS = 20;
const READ_SECONDS = 60;
const CLIP_SECONDS = 10.24;

/**
 * Encodes the clip: H.264 640x360 25 fps, GOP 1 s, no B-frames (as cameras send), ~1.9 Mbit/s capped at 2 (noise
 * keeps x264 from undershooting), AAC 48 kHz. 10.24 s = 256 video frames = 480 AAC frames (with the encoder's
 * 1024 priming samples), so that the loop below joins cleanly.
 */
function encodeClip(t: Scope, file: string): Peer {
  const samples = (CLIP_SECONDS * 48_000) / 1024 - 1;
  return spawnPeer(t, FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i'],
    `testsrc2=size=640x360:rate=25:duration=${CLIP_SECONDS},noise=alls=12:allf=t`,
    ...['-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000,atrim=end_sample=${samples * 1024}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '25', '-keyint_min', '25'],
    ...['-sc_threshold', '0', '-b:v', '1900k', '-maxrate', '2M', '-bufsize', '2M'],
    ...['-c:a', 'aac', '-b:a', '64k', '-f', 'flv', file],
  ]);
}

/**
 * Pushes the clip in real time, forever. ffmpeg's -stream_loop (with -c copy) shifts each pass by the longest
 * track's span plus one frame of video, so timestamps keep increasing across loops. With a clip whose audio ended
 * at the video's end, the next pass's first audio frame came 1 ms after the last one (20 ms of overlap per loop);
 * with the 10.24 s clip every step is 21/22 ms of audio and 40 ms of video (checked over 4 passes).
 */
const loopPush = (clip: string) => (url: string) => [
  ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip],
  ...['-c', 'copy', '-f', 'flv', url],
];

test(`${CAMERAS} cameras × 2 Mbit/s over RTMP, one F1 reader each for ${READ_SECONDS} s: every reader in real time`, async (t) => {
  const clip = join(tempDir(t), 'clip.flv');
  const encoded = await encodeClip(t, clip).done;
  assert.equal(encoded.code, 0, encoded.stderr);
  const clipKbps = (statSync(clip).size * 8) / CLIP_SECONDS / 1000;
  t.diagnostic(`clip: ${Math.round(clipKbps)} kbit/s`);
  assert.ok(clipKbps > 1700 && clipKbps < 2300, `the clip is ${clipKbps} kbit/s, not ~2 Mbit/s`);

  const s = await startSlave(t);
  const cred = await token(s, 'reader');
  const ids = Array.from({ length: CAMERAS }, (_, i) => `load${String(i + 1).padStart(2, '0')}`);
  const grants = [];
  for (const id of ids) grants.push(await addCamera(s, id));
  await new Promise((r) => setTimeout(r, 300)); // the access tables reach the worker over IPC
  const pushers = grants.map((g) => spawnPeer(t, FFMPEG, loopPush(clip)(g.publishUrl)));
  await Promise.all(ids.map((id) => waitOnline(s, 'f1', id, 30_000)));

  const pid = workerPid(s);
  const usage = sampleUsage(t, pid, 1000);
  const readers = ids.map((id) => copyRead(t, rtspUrl(s, 'f1', id, cred), READ_SECONDS));
  const reports = (await Promise.all(readers.map((r) => r.done))).map(readReport);
  const u = usage.stop();

  const rates = reports.map((r) => r.steadyRate).sort((a, b) => a - b);
  const speeds = reports.map((r) => r.speed);
  t.diagnostic(
    `steady rates (second half of each read): min ${rates[0]!.toFixed(3)} median ${rates[CAMERAS >> 1]!.toFixed(3)} ` +
      `max ${rates[CAMERAS - 1]!.toFixed(3)}; ffmpeg's own speed min ${Math.min(...speeds)} max ${Math.max(...speeds)}`,
  );
  t.diagnostic(
    `worker ${pid}: CPU ${u.cpuPercent.toFixed(0)}% of a core on average (peak 1 s ${u.maxCpuPercent.toFixed(0)}%), ` +
      `RSS ${u.baselineRssMb.toFixed(0)} → max ${u.maxRssMb.toFixed(0)} MB (last ${u.lastRssMb.toFixed(0)} MB)`,
  );
  t.diagnostic(
    `machine load average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const what = (i: number) => {
    const r = reports[i]!;
    return `${ids[i]}: code=${r.result.code} steady=${r.steadyRate.toFixed(3)} speed=${r.speed} media=${r.outTimeS}s`;
  };

  assert.equal(workerPid(s), pid, 'the worker was not restarted');
  for (const [i, p] of pushers.entries()) assert.ok(p.running(), `pusher ${ids[i]} stopped`);
  await t.test('every reader gets its 60 s at speed ≥ 0.98 in the steady state', () => {
    const slow = reports.flatMap((r, i) =>
      r.result.code !== 0 || r.outTimeS < READ_SECONDS - 0.5 || r.steadyRate < 0.98 ? [what(i)] : [],
    );
    assert.deepEqual(slow, [], `${slow.length} of ${CAMERAS} readers not in real time`);
  });
  await t.test('no reader logs an error', () => {
    const noisy = reports.flatMap((r, i) => {
      const lines = r.result.stderr.trim().split('\n').filter(Boolean);
      return lines.length > 0 ? [`${what(i)}: ${lines.length} error lines, the first: ${lines[0]}`] : [];
    });
    assert.equal(noisy.length, 0, `${noisy.length} of ${CAMERAS} readers logged errors:\n${noisy.join('\n')}`);
  });
});
