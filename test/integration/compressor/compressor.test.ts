/**
 * The compressor role end to end, on loopback: a slave (its own core) with a 1280x720 H.264 camera pushing RTMP, and
 * a compressor core configured with that slave. F2 must appear on the slave as the preset says (ffprobe on a
 * recording: size, rate, key frames, bitrate), be readable by GStreamer, stay the compressor's while another token
 * tries to publish it (the compressor holds the camera's lease), and come back after its ffmpeg is killed. The job's
 * command line carries its lease's RTSP credential, never the API token; a lease lost and won again brings a new
 * credential, which the ffmpeg's next restart uses.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, until } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import { assertGstRead, FFMPEG, FFPROBE, gstRead, probe, publisherArgs, spawnPeer } from '../rtsp/peers.js';
import { addCamera, PROBE_TCP, rtspUrl, startSlave, token } from '../slave/slave.js';
import { camera720, count, jobs, startCompressor } from './fixture.js';

test('a 720p camera becomes a 480p F2 by the default preset; GStreamer reads it; a killed job is back', async (t) => {
  const s = await startSlave(t);
  const grant = await addCamera(s, 'yard');
  await new Promise((r) => setTimeout(r, 200));
  spawnPeer(t, FFMPEG, camera720(grant.publishUrl));
  const c = await startCompressor(t, s, 'comp-a');
  await waitUntil(() => count(s, 'stream.online', 'f2', 'yard') >= 1, 40_000, 'F2 yard online');

  const [job] = await jobs(c);
  assert.equal(job?.id, 'site-a/yard');
  assert.equal(job.preset, '480p-economy');
  assert.equal(job.encoder, 'libx264');
  const viewer = await token(s, 'viewer');
  const f2 = rtspUrl(s, 'f2', 'yard', viewer);

  // 12 s of F2 copied to a file, then measured there: what a reader of F2 gets.
  const dir = mkdtempSync(join(tmpdir(), 'cupola-f2-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'f2.mkv');
  const rec = spawnPeer(t, FFMPEG, ['-v', 'error', '-rtsp_transport', 'tcp', '-i', f2, '-t', '12', '-c', 'copy', file]);
  const gst = gstRead(t, f2, 'tcp');
  // Meanwhile another valid API token publishes F2 yard: refused (403), since the compressor holds the camera's lease.
  // Had it taken the path over, the recording would hold its 640x360 pictures with a key frame every 25.
  const restarts = (await jobs(c))[0]!.restarts;
  const rogue = spawnPeer(t, FFMPEG, publisherArgs(rtspUrl(s, 'f2', 'yard', viewer), 'tcp'));
  await waitUntil(() => !rogue.running(), 10_000, 'the publisher without the lease refused');
  const refused = await rogue.done;
  assert.notEqual(refused.code, 0, 'a token without the lease published F2 yard');
  assert.match(refused.stderr, /403/);
  assert.equal((await rec.done).code, 0);
  assert.equal((await jobs(c))[0]!.restarts, restarts, "the compressor's publish was never taken over");
  assertGstRead(t, await gst.done);
  const streamInfo = await spawnPeer(t, FFPROBE, [
    ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=codec_name,width,height,avg_frame_rate'],
    ...['-of', 'csv=p=0', file],
  ]).done;
  assert.equal(streamInfo.stdout.trim(), 'h264,854,480,15/1');
  const packets = await spawnPeer(t, FFPROBE, [
    ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,size,flags', '-of', 'csv=p=0', file],
  ]).done;
  const rows = packets.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(','))
    .map(([pts, size, flags]) => ({ pts: Number(pts), size: Number(size), key: (flags ?? '').includes('K') }));
  const keys = rows.flatMap((r, i) => (r.key ? [i] : []));
  const gaps = keys.slice(1).map((k, i) => k - keys[i]!);
  assert.ok(gaps.length >= 4 && gaps.every((gap) => gap === 30), `key frame every 30 frames (2 s): ${gaps.join(' ')}`);
  // Bitrate over whole GOPs (a partial one would skew it): between the first and the last key frame.
  const span = rows.slice(keys[0], keys[keys.length - 1]);
  const seconds = span.length / 15;
  const kbps = (span.reduce((n, r) => n + r.size, 0) * 8) / seconds / 1000;
  t.diagnostic(
    `F2: 854x480 15 fps, ${kbps.toFixed(0)} kbit/s over ${seconds} s (target 600), key frames ${gaps.join(' ')}`,
  );
  assert.ok(kbps >= 480 && kbps <= 720, `bitrate ${kbps.toFixed(0)} kbit/s within ±20 % of 600`);

  // The job's command line, readable by every local user, has its lease's RTSP credential, not the API token.
  const apiToken = c.tc.core.config.compressor.slaves[0]!.token;
  const leaseIn = (pid: number) => {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(!argv.some((a) => a.includes(apiToken.slice(17))), "the API token's secret is in the job's argv");
    const creds = argv.filter((a) => a.startsWith('rtsp://')).map((a) => new URL(a));
    assert.equal(creds.length, 2, 'F1 and F2');
    assert.match(creds[0]!.username, /^lease-[0-9a-f]{12}$/);
    assert.ok(creds.every((u) => u.username === creds[0]!.username && u.password === creds[0]!.password));
    return { id: creds[0]!.username, secret: decodeURIComponent(creds[0]!.password) };
  };
  const running = (await jobs(c))[0]!;
  assert.ok(running.pid);
  const lease = leaseIn(running.pid);
  // It reads this camera's F1 (and publishes its F2: the job does), not another camera's F1, not the API.
  await addCamera(s, 'gate');
  const own = await probe(t, rtspUrl(s, 'f1', 'yard', lease), PROBE_TCP);
  assert.equal(own.code, 0, own.stderr);
  const other = await probe(t, rtspUrl(s, 'f1', 'gate', lease), PROBE_TCP);
  assert.match(other.stderr, /403/, "another camera's F1 is refused");
  assert.equal((await api(s.tc.url, '/api/v1/leases', { token: lease.secret })).status, 401);

  // The slave loses the lease (released here; a slave restart or an expiry does the same): the credential ends, the
  // compressor claims the camera again with its next renewal and gets a new one, without restarting its ffmpeg.
  const released = await api(s.tc.url, '/api/v1/leases/yard?holder=comp-a', { method: 'DELETE', token: apiToken });
  assert.equal(released.status, 204, released.text);
  const stale = await probe(t, rtspUrl(s, 'f1', 'yard', lease), PROBE_TCP);
  assert.match(stale.stderr, /401/, 'the credential of the released lease is refused');
  await until(
    async () => {
      const res = await api(s.tc.url, '/api/v1/leases', { token: s.admin });
      return (res.json as { leases: Array<{ cameraId: string }> }).leases.some((l) => l.cameraId === 'yard');
    },
    5000,
    'yard leased again',
  );
  await new Promise((r) => setTimeout(r, 300)); // the compressor reads the claim answer
  assert.equal((await jobs(c))[0]!.pid, running.pid, 'a new credential alone restarts nothing');

  // kill -9 of the job's ffmpeg: the Supervisor restarts it, with the new credential; F2 is back on the slave.
  const before = count(s, 'stream.online', 'f2', 'yard');
  const killedAt = performance.now();
  process.kill(running.pid, 'SIGKILL');
  await waitUntil(() => count(s, 'stream.online', 'f2', 'yard') > before, 15_000, 'F2 yard back');
  const backMs = Math.round(performance.now() - killedAt);
  t.diagnostic(`F2 back ${backMs} ms after kill -9 of the job's ffmpeg`);
  const after = (await jobs(c))[0]!;
  assert.ok(after.restarts >= 1 && after.pid !== running.pid);
  assert.notEqual(leaseIn(after.pid!).id, lease.id, 'the restart took the new credential');

  await c.tc.core.stop('test');
  await waitUntil(() => c.tc.core.children().length === 0, 5000, 'no job left');
  assert.throws(() => process.kill(after.pid!, 0), 'the ffmpeg of the job is gone');
});
