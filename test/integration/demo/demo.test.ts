/**
 * `npm run demo` as the full topology: two slaves (one per site), a compressor, a master and two synthetic cameras,
 * each node a separate `cupola serve` process. Real clients read the master's relays (ffprobe over RTMP and RTSP,
 * GStreamer), its HLS and MJPEG previews and its peer health; a paused reader must not hurt the others; a slave killed
 * with -9 shows down and its relays recover once it is back, without touching the master; nothing outlives the demo.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import type { MediaCounters, PlaneStream } from '../../../app/media/worker/protocol.js';
import { CLI, checkBuild, login, tempDir } from '../../helpers/core.js';
import { api, until } from '../../helpers/http.js';
import { spawnPeer } from '../../helpers/peers.js';
import { sampleUsage } from '../../helpers/proc-usage.js';
import {
  descendantsOf,
  detachedDescendantsOf,
  isRunning,
  killAll,
  readProcess,
  waitUntil,
} from '../../helpers/processes.js';
import { probeFile, tempFile } from '../previews/fixture.js';
import { assertGstRead, assertRealtimeRead, ffmpegRead, FFPROBE, gstRead, readReport } from '../rtsp/peers.js';
import { RawClient } from '../rtsp/raw-client.js';
import {
  get,
  masterFfmpegs,
  masterPlanePid,
  openMjpeg,
  peers,
  rate,
  relayed,
  relays,
  rtmpUrl,
  rtspUrl,
  segmentsOf,
  startDemo,
} from './fixture.js';

const A = 'site-a/cam-1';
const B = 'site-b/cam-2';
const PROBE = ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'compact'];
/** Cameras as heavy as testsrc2 gets (~3 Mbit/s), so that a paused reader's socket buffers fill within seconds. */
const CAMERA_KBPS = 6000;
const PAUSE_S = 20;
const RSS_BOUND_MB = 25;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the demo topology: relays, previews, peer health, a paused reader, a slave killed and back, a clean stop', async (t) => {
  const t0 = performance.now();
  const r = await startDemo(t, { cameraKbps: CAMERA_KBPS });
  const startedMs = performance.now() - t0;
  const streamsMs = await r.demo.waitStreams(60_000);
  t.diagnostic(
    `demo up in ${(startedMs / 1000).toFixed(1)} s; every camera on F1 + F2 and relayed ${(streamsMs / 1000).toFixed(1)} s later`,
  );

  await t.test('ffprobe reads F1 over RTMP and F2 over RTSP; gst-launch-1.0 reads F2 (all on the master)', async () => {
    const [f1, f2, gst] = await Promise.all([
      spawnPeer(t, FFPROBE, [...PROBE, rtmpUrl(r, A)]).done,
      spawnPeer(t, FFPROBE, ['-rtsp_transport', 'tcp', ...PROBE, rtspUrl(r, 'f2', B)]).done,
      gstRead(t, rtspUrl(r, 'f2', A), 'tcp').done,
    ]);
    assert.match(f1.stdout, /codec_name=h264\|width=640\|height=360/, f1.stderr);
    assert.match(f1.stdout, /codec_name=aac/, f1.stderr);
    // F2 is the compressor's output (the demo preset: 240p), relayed from the slave's F2.
    assert.match(f2.stdout, /codec_name=h264\|width=426\|height=240/, f2.stderr);
    assertGstRead(t, gst);
  });

  await t.test('GET /api/v1/peers on the master: both slaves and the compressor up', async () => {
    const list = await until(
      async () => {
        const p = await peers(r);
        return p.length === 3 && p.every((x) => x.state === 'up') && p;
      },
      10_000,
      'every peer up',
    );
    assert.deepEqual(list.map((p) => `${p.kind} ${p.name}`).sort(), [
      'compressor compressor',
      'slave site-a',
      'slave site-b',
    ]);
  });

  await t.test('the HLS playlist of a relayed F2 validates and its segments decode', async () => {
    const base = `/hls/f2/${A}`;
    const first = await get(r, `${base}/index.m3u8`);
    assert.equal(first.status, 200, first.body.toString());
    assert.match(first.type, /^application\/vnd\.apple\.mpegurl/);
    let playlist = first.body.toString('utf8');
    for (let i = 0; i < 8 && segmentsOf(playlist).length < 3; i++) {
      await sleep(500);
      playlist = (await get(r, `${base}/index.m3u8`)).body.toString('utf8');
    }
    assert.match(playlist, /^#EXTM3U\n/);
    assert.match(playlist, /^#EXT-X-VERSION:\d+$/m);
    assert.match(playlist, /^#EXT-X-MAP:URI="init\.mp4"$/m);
    assert.match(playlist, /^#EXT-X-MEDIA-SEQUENCE:\d+$/m);
    assert.doesNotMatch(playlist, /#EXT-X-ENDLIST/);
    const target = Number(/^#EXT-X-TARGETDURATION:(\d+)$/m.exec(playlist)?.[1]);
    const segs = segmentsOf(playlist);
    assert.ok(segs.length >= 3, playlist);
    for (const s of segs) assert.ok(s.duration > 0 && s.duration <= target + 0.5, `${s.duration} s > ${target}`);
    const init = await get(r, `${base}/init.mp4`);
    assert.equal(init.status, 200);
    const bodies = [];
    for (const seg of segs.slice(-3, -1)) {
      const res = await get(r, `${base}/${seg.uri}`);
      assert.equal(res.status, 200, seg.uri);
      bodies.push(res.body);
    }
    const probed = await probeFile(t, tempFile(t, 'demo.mp4', Buffer.concat([init.body, ...bodies])));
    assert.equal(probed.code, 0, probed.stderr);
    assert.equal(probed.stderr.trim(), '', 'no decode errors');
    const [codec, width, height, frames] = probed.stdout.trim().split('|');
    assert.deepEqual([codec, width, height], ['h264', '426', '240']);
    // 1 s segments of a 15 fps stream.
    assert.ok(Math.abs(Number(frames) - 15 * bodies.length) <= 2, `frames: ${frames}`);
  });

  await t.test('MJPEG: two viewers get the requested 5 fps from one decoder', async () => {
    const path = `/mjpeg/f2/${B}?fps=5&width=320`;
    const [a, b] = await Promise.all([openMjpeg(r, path), openMjpeg(r, path)]);
    t.after(() => (a.close(), b.close()));
    assert.equal(a.res.statusCode, 200);
    assert.equal(b.res.statusCode, 200);
    await waitUntil(() => a.parts.length > 0 && b.parts.length > 0, 10_000, 'the first images');
    await sleep(4000);
    const decoders = masterFfmpegs(r, 'image2pipe');
    const rates = [rate(a.parts, a.parts[0]!.at + 500), rate(b.parts, b.parts[0]!.at + 500)];
    t.diagnostic(`MJPEG viewers at ${rates.map((x) => x.toFixed(2)).join(' and ')} fps; ${decoders.length} decoder`);
    assert.equal(decoders.length, 1, 'one decoder process for both viewers');
    for (const x of rates) assert.ok(x > 4.2 && x < 5.8, `rate ${x}`);
  });

  await t.test('a paused RTSP reader of a relay: master memory bounded, the other readers keep real time', async () => {
    const others = [ffmpegRead(t, rtmpUrl(r, A), null, PAUSE_S), ffmpegRead(t, rtspUrl(r, 'f1', A), 'tcp', PAUSE_S)];
    const url = `rtsp://127.0.0.1:${r.info.master.ports.f1}/${A}`;
    const auth = { Authorization: `Basic ${Buffer.from(`${r.viewer.user}:${r.viewer.secret}`).toString('base64')}` };
    const stuck = await RawClient.open(t, r.info.master.ports.f1);
    assert.equal((await stuck.request('DESCRIBE', url, { ...auth, Accept: 'application/sdp' })).status, 200);
    let session = '';
    for (const track of [0, 1]) {
      const transport = `RTP/AVP/TCP;unicast;interleaved=${track * 2}-${track * 2 + 1}`;
      const headers = { ...auth, Transport: transport, ...(session ? { Session: session } : {}) };
      const res = await stuck.request('SETUP', `${url}/trackID=${track}`, headers);
      assert.equal(res.status, 200, `SETUP track ${track}`);
      session = res.get('Session')!.split(';')[0]!;
    }
    assert.equal((await stuck.request('PLAY', url, { ...auth, Session: session })).status, 200);
    await waitUntil(() => stuck.frameBytes > 0, 5000, 'first frames');
    const plane = masterPlanePid(r);
    const usage = sampleUsage(t, plane, 1000);
    stuck.socket.pause();
    const pausedAt = performance.now();
    const reports = (await Promise.all(others.map((o) => o.done))).map(readReport);
    // The plane reports every 2 s; how soon it drops the stuck reader depends on the kernel's socket buffers (the
    // 2 MB user-space bound comes after them), so wait for it a little longer than the readers ran if need be.
    const figures = async () => {
      const res = await api(r.master, '/api/v1/streams', { token: r.admin });
      const { streams, counters } = res.json as { streams: PlaneStream[]; counters: MediaCounters };
      const f1 = streams.find((s) => s.plane === 'f1' && s.stats.path === A)?.stats;
      return { f1, dropped: counters.f1.readersDropped, skipped: f1?.packetsDropped ?? 0 };
    };
    const seen = await until(
      async () => {
        const f = await figures();
        return (f.dropped > 0 || f.skipped > 0) && f;
      },
      20_000,
      'the stuck reader dropped or skipped',
    ).catch(() => figures());
    const u = usage.stop();
    t.diagnostic(
      `master plane RSS ${u.baselineRssMb.toFixed(1)} → max ${u.maxRssMb.toFixed(1)} MB over ` +
        `${((performance.now() - pausedAt) / 1000).toFixed(0)} s; F1 ${A}: ${seen.f1?.bitrateInKbps} kbit/s in, ` +
        `${seen.skipped} packets skipped, ${seen.dropped} readers dropped; readers at speed ` +
        `${reports.map((x) => x.speed).join(', ')}`,
    );
    assert.ok(u.maxRssMb - u.baselineRssMb < RSS_BOUND_MB, `plane RSS grew by ${u.maxRssMb - u.baselineRssMb} MB`);
    assert.ok(seen.dropped > 0 || seen.skipped > 0, 'the stuck reader was neither skipped nor dropped');
    assertRealtimeRead(reports[0]!, PAUSE_S, 'ffmpeg over RTMP next to the stuck reader');
    assertRealtimeRead(reports[1]!, PAUSE_S, 'ffmpeg over F1 RTSP next to the stuck reader');
  });

  await t.test('a slave killed with -9 shows down within 5 s; started again, its relays recover', async () => {
    const masterPid = r.demo.nodePid('master');
    const slavePid = r.demo.nodePid('site-a');
    assert.ok(masterPid && slavePid);
    process.kill(slavePid, 'SIGKILL');
    const killedAt = performance.now();
    await until(async () => (await peers(r)).find((p) => p.name === 'site-a')?.state === 'down', 6000, 'down');
    const downMs = performance.now() - killedAt;
    assert.ok(downMs <= 5000, `site-a shown down ${Math.round(downMs)} ms after kill -9`);
    assert.equal((await peers(r)).find((p) => p.name === 'site-b')?.state, 'up', 'the other slave stays up');

    const restartAt = performance.now();
    await r.demo.restartNode('site-a');
    await until(() => relayed(r, A), 60_000, `${A} relayed again`);
    const recoveredMs = performance.now() - restartAt;
    const probe = await spawnPeer(t, FFPROBE, [...PROBE, rtmpUrl(r, A)]).done;
    assert.match(probe.stdout, /codec_name=h264\|width=640\|height=360/, probe.stderr);
    const f2 = await spawnPeer(t, FFPROBE, ['-rtsp_transport', 'tcp', ...PROBE, rtspUrl(r, 'f2', A)]).done;
    assert.match(f2.stdout, /codec_name=h264\|width=426\|height=240/, f2.stderr);
    t.diagnostic(
      `site-a down on the master ${Math.round(downMs)} ms after kill -9; relays playing ` +
        `${(recoveredMs / 1000).toFixed(1)} s after its restart; master pid unchanged`,
    );
    assert.equal(r.demo.nodePid('master'), masterPid, 'the master was not restarted');
    const state = (await relays(r)).filter((x) => x.path === B).map((x) => x.reconnects);
    assert.deepEqual(state, [0, 0], 'the other site relays never reconnected');
  });

  await t.test('stop() ends every process of the demo and removes its data', async () => {
    const before = detachedDescendantsOf(process.pid).map((p) => ({ pid: p.pid, start: p.startTime, argv: p.argv }));
    assert.ok(before.length >= 4 + 2, `nodes and cameras run: ${before.map((p) => p.argv[1]).join(', ')}`);
    const stopAt = performance.now();
    await r.demo.stop();
    t.diagnostic(`demo stopped in ${Math.round(performance.now() - stopAt)} ms`);
    const left = before.filter((p) => isRunning(p.pid) && readProcess(p.pid)?.startTime === p.start);
    assert.deepEqual(
      left.map((p) => p.argv.join(' ').slice(0, 120)),
      [],
      'processes left after stop',
    );
    assert.deepEqual(
      detachedDescendantsOf(process.pid).map((p) => p.argv.join(' ').slice(0, 120)),
      [],
    );
    assert.equal(existsSync(r.info.root), false, 'the data dirs are removed');
  });
});

test('`cupola demo` prints the dashboard and login; SIGINT stops every process and removes its data', async (t) => {
  checkBuild();
  const tmp = tempDir(t, 'cupola-demo-cli-');
  const args = [CLI, 'demo', '--cameras', '1', '--sites', '1', '--port', '0'];
  // TMPDIR: the demo's data dirs go there, where this test can see that they are removed.
  const child = spawn(process.execPath, args, {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killAll(descendantsOf(child.pid!).map((p) => p.pid));
    child.kill('SIGKILL');
    await exited;
  });
  const t0 = performance.now();
  await waitUntil(
    () => /^ {2}Login {6}admin \/ \S+/m.test(out) || child.exitCode !== null,
    30_000,
    `the banner: ${out}`,
  );
  const bannerMs = performance.now() - t0;
  const dashboard = /^ {2}Dashboard {2}(http:\/\/\S+)\/$/m.exec(out)?.[1];
  const password = /^ {2}Login {6}admin \/ (\S+)/m.exec(out)?.[1];
  assert.ok(dashboard && password, out);
  assert.match(out, new RegExp(`^ {2}Mosaic {5}${dashboard}/#/mosaic `, 'm'));
  await login(dashboard, password);
  const tree = descendantsOf(child.pid!).map((p) => ({ pid: p.pid, start: p.startTime }));
  // A slave, a compressor and a master with their media-plane workers (not the compressor), and the camera.
  assert.ok(tree.length >= 6, `processes of the demo: ${tree.length}`);
  assert.equal(readdirSync(tmp).filter((f) => f.startsWith('cupola-demo-')).length, 1, 'one data root');

  const stopAt = performance.now();
  child.kill('SIGINT');
  const end = await exited;
  const stopMs = performance.now() - stopAt;
  t.diagnostic(`banner after ${Math.round(bannerMs)} ms; SIGINT to exit ${Math.round(stopMs)} ms`);
  assert.deepEqual(end, { code: 0, signal: null }, out);
  assert.match(out, /demo: stopped in/);
  const left = tree.filter((p) => isRunning(p.pid) && readProcess(p.pid)?.startTime === p.start);
  assert.deepEqual(left, [], 'processes left after SIGINT');
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.startsWith('cupola-demo-')),
    [],
    'data dirs removed',
  );
});
