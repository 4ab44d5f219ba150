/**
 * A compressor job's life with real peers on loopback: a frozen ffmpeg (kill -STOP) is found by the watchdog and
 * restarted; a camera that stops publishing parks its job without a restart storm, and its F2 is back soon after
 * the camera; a preset change over the API restarts the job with the new preset and is saved; stopping the
 * compressor leaves no ffmpeg behind; a slave that answers garbage leaves the compressor up and says so.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { JobView } from '../../../app/defs/job.js';
import type { SlavePeerState } from '../../../app/defs/peer.js';
import { api, assertError, until } from '../../helpers/http.js';
import { isRunning, waitUntil } from '../../helpers/processes.js';
import { FFMPEG, FFPROBE, spawnPeer } from '../rtsp/peers.js';
import {
  addCamera,
  PROBE_TCP,
  pushCamera,
  rtmpPushArgs,
  rtspUrl,
  startSlave,
  token,
  waitOnline,
} from '../slave/slave.js';
import {
  camera720,
  count,
  ffmpegsReading,
  jobs,
  sleep,
  startCompressor,
  startCompressorCore,
  type CompressorApi,
} from './fixture.js';

/** The job of `camera` once it runs (state running, with a pid). */
async function runningJob(c: CompressorApi, camera: string, timeoutMs = 20_000): Promise<JobView> {
  return until(
    async () => (await jobs(c)).find((j) => j.camera === camera && j.state === 'running' && j.pid !== null),
    timeoutMs,
    `job of ${camera} running`,
  );
}

test('kill -STOP of a job ffmpeg: the stall is detected within 6 s, the job restarts and F2 is back', async (t) => {
  const s = await startSlave(t);
  await pushCamera(t, s, 'gate');
  const c = await startCompressor(t, s, 'comp-a');
  await waitUntil(() => count(s, 'stream.online', 'f2', 'gate') >= 1, 40_000, 'F2 gate online');
  const job = await runningJob(c, 'gate');
  const frozen = job.pid!;

  const stalls: Array<{ at: number; pid: number; silentMs: number }> = [];
  t.after(
    c.tc.core.bus.on('child.stalled', (e) => {
      if (e.data.name === 'job:site-a/gate') stalls.push({ at: performance.now(), ...e.data });
    }),
  );
  // Should the test fail before the watchdog kills it, a frozen ffmpeg must still be able to die.
  t.after(() => {
    if (isRunning(frozen)) process.kill(frozen, 'SIGCONT');
  });
  const f2Before = count(s, 'stream.online', 'f2', 'gate');
  const stoppedAt = performance.now();
  process.kill(frozen, 'SIGSTOP');
  await waitUntil(() => stalls.length > 0, 15_000, 'child.stalled of job:site-a/gate');
  const detectedMs = Math.round(stalls[0]!.at - stoppedAt);
  t.diagnostic(`stall detected ${detectedMs} ms after kill -STOP (watchdog saw ${stalls[0]!.silentMs} ms of silence)`);
  assert.equal(stalls[0]!.pid, frozen);
  assert.ok(detectedMs <= 6000, `stall detected after ${detectedMs} ms (want ≤ 6000)`);

  await waitUntil(() => count(s, 'stream.online', 'f2', 'gate') > f2Before, 15_000, 'F2 gate back');
  t.diagnostic(`F2 back ${Math.round(performance.now() - stoppedAt)} ms after kill -STOP`);
  const after = await runningJob(c, 'gate');
  assert.notEqual(after.pid, frozen);
  assert.ok(after.restarts >= 1, `restarts ${after.restarts}`);
  assert.equal(isRunning(frozen), false, 'the frozen ffmpeg was killed');
  assert.equal(stalls.length, 1, 'one stall, not a stall loop');
});

test('a camera that stops parks its job without restarts; when it is back, F2 follows within 5 s', async (t) => {
  const s = await startSlave(t);
  const grant = await addCamera(s, 'dock');
  await sleep(200);
  let cam = spawnPeer(t, FFMPEG, rtmpPushArgs(grant.publishUrl));
  await waitOnline(s, 'f1', 'dock');
  const c = await startCompressor(t, s, 'comp-a');
  await waitUntil(() => count(s, 'stream.online', 'f2', 'dock') >= 1, 40_000, 'F2 dock online');
  await runningJob(c, 'dock');
  const starts = () =>
    c.events.filter((e) => e.type === 'child.started' && (e.data as { name: string }).name === 'job:site-a/dock')
      .length;

  const killedAt = performance.now();
  process.kill(cam.pid, 'SIGKILL');
  await cam.done;
  const parked = await until(
    async () => (await jobs(c)).find((j) => j.camera === 'dock' && j.state === 'parked'),
    15_000,
    'job of dock parked',
  );
  t.diagnostic(`parked ${Math.round(performance.now() - killedAt)} ms after the camera died: "${parked.reason}"`);
  assert.ok(parked.reason, 'a parked job says why');
  assert.equal(parked.pid, null);

  // Its ffmpeg is stopped (q, then SIGTERM after supervisor.stopTimeoutMs: a read blocked on F1 ignores q).
  const goneMs = await waitUntil(() => ffmpegsReading(s.media.f1Port).length === 0, 8000, 'the job ffmpeg gone');
  t.diagnostic(`the job ffmpeg was gone ${Math.round(goneMs)} ms after the job was parked`);
  // No restart storm: nothing is started for the job while the camera is away, and no ffmpeg reads F1.
  const startsBefore = starts();
  for (let i = 0; i < 15; i++) {
    await sleep(1000);
    assert.deepEqual(ffmpegsReading(s.media.f1Port), [], 'an ffmpeg reads F1 of a parked job');
  }
  assert.equal(starts(), startsBefore, `child.started while parked: ${starts() - startsBefore}`);
  const still = (await jobs(c)).find((j) => j.camera === 'dock');
  assert.equal(still?.state, 'parked');

  const f1Before = count(s, 'stream.online', 'f1', 'dock');
  const f2Before = count(s, 'stream.online', 'f2', 'dock');
  cam = spawnPeer(t, FFMPEG, rtmpPushArgs(grant.publishUrl));
  await waitUntil(() => count(s, 'stream.online', 'f1', 'dock') > f1Before, 15_000, 'F1 dock back');
  const f1At = performance.now();
  await waitUntil(() => count(s, 'stream.online', 'f2', 'dock') > f2Before, 15_000, 'F2 dock back');
  const backMs = Math.round(performance.now() - f1At);
  t.diagnostic(`F2 back ${backMs} ms after F1 was online again`);
  assert.ok(backMs <= 5000, `F2 back ${backMs} ms after F1 (want ≤ 5000)`);
  assert.equal((await runningJob(c, 'dock')).state, 'running');
});

test('PATCH of a job preset restarts it with the new preset, refuses an unknown one, and is saved', async (t) => {
  const s = await startSlave(t);
  await pushCamera(t, s, 'yard', camera720);
  const c = await startCompressor(t, s, 'comp-a');
  await waitUntil(() => count(s, 'stream.online', 'f2', 'yard') >= 1, 40_000, 'F2 yard online');
  const before = await runningJob(c, 'yard');
  assert.equal(before.preset, '480p-economy');
  const patch = (preset: string) =>
    api(c.url, '/api/v1/jobs/site-a/yard', { method: 'PATCH', token: c.admin, body: { preset } });

  const unknown = assertError(await patch('4k-dreams'), 400, 'invalid_request', 'preset');
  assert.match(unknown.message, /720p-standard/, 'the error lists the known presets');
  assert.equal((await runningJob(c, 'yard')).pid, before.pid, 'a refused change leaves the job alone');

  const f2Before = count(s, 'stream.online', 'f2', 'yard');
  const patchedAt = performance.now();
  const res = await patch('720p-standard');
  assert.equal(res.status, 200, res.text);
  assert.equal((res.json as { job: JobView }).job.preset, '720p-standard');
  await waitUntil(() => count(s, 'stream.online', 'f2', 'yard') > f2Before, 20_000, 'F2 yard republished');
  t.diagnostic(`F2 republished at 720p ${Math.round(performance.now() - patchedAt)} ms after the PATCH`);
  const after = await runningJob(c, 'yard');
  assert.equal(after.preset, '720p-standard');
  assert.notEqual(after.pid, before.pid, 'the job ffmpeg was restarted');

  const viewer = await token(s, 'viewer');
  const show = ['-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0'];
  const probe = await spawnPeer(t, FFPROBE, [
    ...['-v', 'error', ...PROBE_TCP, '-select_streams', 'v', ...show, rtspUrl(s, 'f2', 'yard', viewer)],
  ]).done;
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal(probe.stdout.trim(), 'h264,1280,720', 'F2 of a 720p camera under 720p-standard');

  const config = (await api(c.url, '/api/v1/config', { token: c.admin })).json as {
    config: { compressor: { cameraPresets: Record<string, string> } };
  };
  assert.equal(config.config.compressor.cameraPresets.yard, '720p-standard');
  const file = parse(readFileSync(c.tc.configFile, 'utf8')) as { compressor?: { cameraPresets?: object } };
  assert.deepEqual(file.compressor?.cameraPresets, { yard: '720p-standard' }, 'saved to cupola.yaml');

  // Stopping the compressor stops its jobs: no ffmpeg reading the slave's F1 is left once stop() returns.
  assert.equal(ffmpegsReading(s.media.f1Port).length, 1, 'the job ffmpeg is visible in /proc');
  await c.tc.core.stop('test');
  assert.deepEqual(
    ffmpegsReading(s.media.f1Port).map((p) => `${p.pid} ${p.argv.slice(0, 3).join(' ')}`),
    [],
    'ffmpeg left behind after the compressor stopped',
  );
});

test('a slave that answers 500s and garbage: the compressor stays up and shows it; an impossible preset is refused', async (t) => {
  let hits = 0;
  const bad = createServer((req, res) => {
    hits++;
    if (req.url?.startsWith('/api/v1/events')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`\u0000\u00ffgarbage\nevent: ${'x'.repeat(300)}\ndata: {not json\n\nid: \u0007\n\n`);
    } else {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html><body>Internal Server Error</body></html>');
    }
  });
  await new Promise<void>((ok) => bad.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise((ok) => bad.close(ok)));
  bad.unref();
  const url = `http://127.0.0.1:${(bad.address() as AddressInfo).port}`;
  const secret = `cpt_0123456789ab_${'s3cr3t'.repeat(4)}`;
  const c = await startCompressorCore(t, 'comp-a', {
    fileValues: { compressor: { slaves: [{ url, token: secret, name: 'broken' }] } },
  });

  const peer = await until(
    async () => {
      const { links: peers } = (await api(c.url, '/api/v1/peers', { token: c.admin })).json as {
        links: SlavePeerState[];
      };
      return peers[0]?.state === 'unreachable' && peers[0].lastError ? peers[0] : null;
    },
    15_000,
    'the slave shown unreachable with an error',
  );
  t.diagnostic(`peer: ${peer.state}, lastError "${peer.lastError}", retries ${peer.retries}`);
  assert.equal(peer.name, 'broken');
  assert.ok(!JSON.stringify(peer).includes(secret.slice(17)), 'the token is not in the peer state');
  await sleep(3000);
  assert.ok(hits >= 2, `the compressor kept trying (${hits} requests)`);
  assert.equal((await api(c.url, '/health')).status, 200, 'the compressor core is still up');
  assert.deepEqual(await jobs(c), []);

  const impossible = { compressor: { presets: { x: { height: 481, fps: 15, bitrateKbps: 600 } } } };
  const res = await api(c.url, '/api/v1/config', { method: 'PATCH', token: c.admin, body: impossible });
  assertError(res, 400, undefined, 'compressor.presets.x.height');
  const config = (await api(c.url, '/api/v1/config', { token: c.admin })).json as {
    config: { compressor: { presets: Record<string, unknown> } };
  };
  assert.equal(config.config.compressor.presets.x, undefined, 'the refused preset is not applied');
});
