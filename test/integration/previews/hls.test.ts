/**
 * On-demand HLS of a real slave: HEAD starts nothing; the first playlist request starts one muxer and waits for the
 * first segment; the playlist is fMP4 (EXT-X-MAP) with keyframe-aligned 1 s segments that decode with ffprobe; auth by
 * header or signed link (forged, expired, other-stream links refused); restarts of the muxer's ffmpeg (kill -9, the
 * camera back with another picture size) keep the numbering and add discontinuities with the new init section; the
 * muxer, its process and its files go 2 s after the last request.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, assertError } from '../../helpers/http.js';
import { spawnPeer } from '../../helpers/peers.js';
import { killAll, waitUntil } from '../../helpers/processes.js';
import { rtmpPushArgs, type Slave } from '../slave/slave.js';
import {
  FFMPEG,
  ffmpegProcesses,
  get,
  head,
  liveChildren,
  mintLink,
  probeFile,
  signWithNodeKey,
  startPreviewSlave,
  tempFile,
} from './fixture.js';

const PLAYLIST = '/hls/f1/cam1/index.m3u8';

/** A media segment as a player reads it from a playlist. */
interface Listed {
  /** Media sequence and discontinuity sequence numbers (RFC 8216 §6.3.1). */
  msn: number;
  dsn: number;
  /** The URI of the EXT-X-MAP in force, without its query. */
  map: string;
  duration: number;
  uri: string;
}

/** The media segments of a playlist in order, numbered as a player numbers them. */
function segmentsOf(playlist: string): Listed[] {
  let msn = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(playlist)?.[1] ?? NaN);
  let dsn = Number(/^#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)$/m.exec(playlist)?.[1] ?? 0);
  let map = '';
  let duration = NaN;
  const out: Listed[] = [];
  for (const line of playlist.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') dsn += 1;
    else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"?]+)/.exec(line)?.[1] ?? '';
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line && !line.startsWith('#')) out.push({ msn: msn++, dsn, map, duration, uri: line });
  }
  return out;
}

test('HLS preview: on demand, fMP4 segments that decode, signed links, idle stop', async (t) => {
  const s = await startPreviewSlave(t);
  const hlsDir = join(s.tc.dataDir, 'run', 'hls');

  await t.test('no credential → 401; unknown stream → 404; known but offline → 503; nothing started', async () => {
    assertError(await asResponse(get(s, PLAYLIST, {})), 401, 'unauthorized');
    assertError(await asResponse(get(s, '/hls/f1/nope/index.m3u8')), 404, 'not_found');
    assertError(await asResponse(get(s, '/hls/f3/cam1/index.m3u8')), 404, 'not_found');
    assertError(await asResponse(get(s, '/hls/f1/../cam1/index.m3u8')), 404);
    assertError(await asResponse(get(s, '/hls/f2/cam1/index.m3u8')), 503, 'stream_offline');
    assertError(await asResponse(get(s, '/hls/f1/cam1/seg1.m4s')), 404, 'not_found'); // no muxer: no segments
    assert.deepEqual(liveChildren(s, 'hls:'), []);
  });

  await t.test('HEAD answers what GET would without starting a muxer; then a GET starts one', async () => {
    const res = await head(s, PLAYLIST);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/vnd\.apple\.mpegurl/);
    const heads = [
      '/hls/f1/nope/index.m3u8',
      '/hls/f2/cam1/index.m3u8',
      '/hls/f1/cam1/seg1.m4s',
      '/hls/f1/cam1/init.mp4',
    ];
    const statuses = await Promise.all([head(s, PLAYLIST, {}), ...heads.map((p) => head(s, p))]);
    assert.deepEqual(
      statuses.map((r) => r.status),
      [401, 404, 503, 404, 404],
    );
    await sleep(300); // a muxer started by a HEAD would be spawned by now
    assert.deepEqual(liveChildren(s, 'hls:'), []);
    assert.deepEqual(((await get(s, '/api/v1/previews')).json as { hls: unknown[] }).hls, []);
    assert.deepEqual(readdirSync(hlsDir), []);
  });

  let playlist = '';
  await t.test('the first request waits for the first segment; fMP4 playlist, 1 s segments', async () => {
    const t0 = performance.now();
    const res = await get(s, PLAYLIST);
    const firstMs = Math.round(performance.now() - t0);
    assert.equal(res.status, 200, res.body.toString());
    assert.match(res.type, /^application\/vnd\.apple\.mpegurl/);
    playlist = res.body.toString('utf8');
    assert.match(playlist, /^#EXTM3U/);
    assert.match(playlist, /^#EXT-X-MAP:URI="init\.mp4"$/m);
    assert.match(playlist, /^#EXT-X-TARGETDURATION:1$/m);
    assert.match(playlist, /^#EXT-X-SERVER-CONTROL:HOLD-BACK=1\.500$/m);
    assert.doesNotMatch(playlist, /#EXT-X-ENDLIST/);
    assert.equal(liveChildren(s, 'hls:').length, 1, 'one muxer');
    // Poll like a player while the list fills up (the muxer stops 2 s after the last request), then look at the
    // durations: cut at every keyframe (GOP 25 at 25 fps = 1 s).
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      playlist = (await get(s, PLAYLIST)).body.toString('utf8');
    }
    const segs = segmentsOf(playlist);
    assert.ok(segs.length >= 3, playlist);
    const durations = segs.map((x) => x.duration);
    for (const d of durations.slice(1)) assert.ok(Math.abs(d - 1) < 0.05, `segment of ${d} s: ${playlist}`);
    console.log(`# HLS: first playlist after ${firstMs} ms; segment durations ${durations.join(', ')} s`);
    assert.equal(liveChildren(s, 'hls:').length, 1, 'still one muxer after more requests');
    assert.equal(ffmpegProcesses('hls').length, 1, 'one muxer process');
  });

  await t.test('init + segments decode with ffprobe: H.264 640x360, 25 frames per segment; HEAD sizes', async () => {
    const segs = segmentsOf(playlist).slice(-3, -1);
    const decoded = await fetchAndProbe(t, s, segs);
    assert.deepEqual(decoded, [{ map: 'init.mp4', size: '640x360', segments: 2 }]);
    for (const uri of ['init.mp4', segs[0]!.uri]) {
      const [got, headed] = [await get(s, `/hls/f1/cam1/${uri}`), await head(s, `/hls/f1/cam1/${uri}`)];
      assert.equal(headed.status, 200);
      assert.equal(headed.headers.get('content-type'), got.type);
      assert.equal(Number(headed.headers.get('content-length')), got.body.length, `HEAD ${uri}: the size of the GET`);
    }
    assertError(await asResponse(get(s, '/hls/f1/cam1/../../cupola.db')), 404);
    assertError(await asResponse(get(s, '/hls/f1/cam1/children.json')), 404, 'not_found');
  });

  await t.test(
    'a signed link plays without headers; its URIs carry it; forged, expired, other-stream refused',
    async () => {
      const link = await mintLink(s, 'f1/cam1', 60);
      const res = await get(s, link.hls, {});
      assert.equal(res.status, 200, res.body.toString());
      const text = res.body.toString('utf8');
      const q = `t=${encodeURIComponent(link.token)}`;
      assert.match(text, new RegExp(`^#EXT-X-MAP:URI="init\\.mp4\\?${escape(q)}"$`, 'm'));
      const seg = segmentsOf(text).at(-1)!;
      assert.ok(seg.uri.endsWith(`?${q}`), seg.uri);
      assert.equal((await get(s, `/hls/f1/cam1/${seg.uri}`, {})).status, 200, 'segment with the link token');
      assert.equal((await get(s, `/mjpeg/f1/cam1?fps=x&${q}`, {})).status, 400, 'the link opens the MJPEG route too');

      const exp = Math.floor(Date.now() / 1000) + 60;
      const forged = link.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      assertError(await asResponse(get(s, `${PLAYLIST}?t=${forged}`, {})), 401, 'invalid_token');
      assertError(await asResponse(get(s, `${PLAYLIST}?t=garbage`, {})), 401, 'invalid_token');
      const expired = signWithNodeKey(s, 'f1/cam1', Math.floor(Date.now() / 1000) - 1);
      assertError(await asResponse(get(s, `${PLAYLIST}?t=${expired}`, {})), 401, 'token_expired');
      const other = signWithNodeKey(s, 'f1/other', exp);
      assertError(await asResponse(get(s, `${PLAYLIST}?t=${other}`, {})), 403, 'forbidden');
      // A token is not an API credential.
      assertError(await asResponse(get(s, `/api/v1/node?t=${link.token}`, {})), 401, 'unauthorized');
      const mint = (body: unknown) => api(s.tc.url, '/api/v1/previews/token', { token: s.admin, body });
      assertError(await mint({ stream: 'f1/cam1', ttlS: 100_000 }), 400, 'invalid_request', 'ttlS');
      assertError(await mint({ stream: 'f1/cam1', ttlS: 700 }), 400, 'invalid_request', 'ttlS'); // > previews.tokenTtlS
      assertError(await mint({ stream: 'cam1' }), 400, 'invalid_request', 'stream');
      assertError(await mint({ stream: 'f1/nope' }), 404, 'not_found');
      assertError(await api(s.tc.url, '/api/v1/previews/token', { body: { stream: 'f1/cam1' } }), 401);
    },
  );

  await t.test('ffmpeg killed, then the camera back at 320x180: numbering, discontinuities, inits', async () => {
    // A viewer polls the playlist throughout, as hls.js does (every target duration, here a bit more often).
    const views: string[] = [];
    let polling = true;
    const poller = (async () => {
      for (; polling; await sleep(250)) {
        const r = await get(s, PLAYLIST);
        assert.equal(r.status, 200, r.body.toString());
        views.push(r.body.toString('utf8'));
      }
    })();
    /** The latest playlist once it lists a segment of run `run` (≥ 2) behind older ones (≤ 15 s). */
    const across = async (run: number): Promise<Listed[]> => {
      const ready = () => {
        const segs = segmentsOf(views.at(-1) ?? '');
        return segs[0]?.map !== `init${run}.mp4` && segs.at(-1)?.map === `init${run}.mp4`;
      };
      await waitUntil(() => ready() || !polling, 15_000, `a segment of run ${run}`, 50);
      return segmentsOf(views.at(-1)!);
    };
    const [muxer] = liveChildren(s, 'hls:');
    const decoded: Array<Awaited<ReturnType<typeof fetchAndProbe>>> = [];
    const timings: number[] = [];
    try {
      let t0 = performance.now();
      process.kill(muxer!.pid!, 'SIGKILL');
      decoded.push(await fetchAndProbe(t, s, await across(2)));
      timings.push(performance.now() - t0);
      // Another picture size: another SDP, so the RTSP path closes its readers and the muxer's ffmpeg starts over
      // with another init section (a camera back with the same SDP would continue the stream without a restart).
      t0 = performance.now();
      killAll([s.camera.pid]);
      await s.camera.done;
      spawnPeer(
        t,
        FFMPEG,
        rtmpPushArgs(s.publishUrl).map((a) => a.replace('size=640x360', 'size=320x180')),
      );
      decoded.push(await fetchAndProbe(t, s, await across(3)));
      timings.push(performance.now() - t0);
    } finally {
      polling = false;
      await poller;
    }
    console.log(
      `# HLS restarts: ${views.length} playlists polled; run 2 listed ${Math.round(timings[0]!)} ms after ` +
        `kill -9 of the muxer, run 3 ${Math.round(timings[1]!)} ms after the camera restart`,
    );
    // Each time the old runs' segments were still listed, each decoding with its own init section.
    assert.deepEqual(
      decoded.map((groups) => groups.slice(-2).map((g) => `${g.map} ${g.size}`)),
      [
        ['init.mp4 640x360', 'init2.mp4 640x360'],
        ['init2.mp4 640x360', 'init3.mp4 320x180'],
      ],
    );
    // Every playlist the viewer got: the media sequence never goes back, a reload only drops segments from the head,
    // a segment keeps its number, discontinuity number and init section from one reload to the next, and each change
    // of init comes with a discontinuity.
    const seen = new Map<string, string>();
    let before: Listed[] = [];
    for (const view of views) {
      const segs = segmentsOf(view);
      assert.ok(segs[0]!.msn >= (before[0]?.msn ?? 0), `media sequence went back:\n${view}`);
      const kept = before.filter((x) => x.msn >= segs[0]!.msn).map((x) => x.uri);
      assert.deepEqual(
        kept,
        segs.slice(0, kept.length).map((x) => x.uri),
        `segments vanished:\n${view}`,
      );
      before = segs;
      segs.forEach((x, i) => {
        for (const [k, v] of [
          [`uri ${x.uri}`, `${x.msn}|${x.dsn}|${x.map}`],
          [`msn ${x.msn}`, x.uri],
        ] as const) {
          assert.equal(seen.get(k) ?? v, v, `${k} changed between reloads:\n${view}`);
          seen.set(k, v);
        }
        const prev = segs[i - 1];
        if (prev) assert.equal(x.dsn, prev.dsn + (x.map === prev.map ? 0 : 1), `discontinuity at ${x.uri}:\n${view}`);
      });
    }
    const last = views.at(-1)!;
    assert.match(last, /seg\d+\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init3\.mp4"\n#EXTINF:/);

    const previews = (await get(s, '/api/v1/previews')).json as { hls: Array<{ child: string; runs: number }> };
    assert.deepEqual(
      previews.hls.map((m) => [m.child, m.runs]),
      [[muxer!.name, 3]],
      'the same muxer, its ffmpeg in its third run',
    );
  });

  await t.test('idle: 2 s after the last request the muxer, its process and its files are gone', async () => {
    const [child] = liveChildren(s, 'hls:');
    assert.ok(child?.pid);
    assert.equal(readdirSync(hlsDir).length, 1);
    const gone = await waitUntil(() => liveChildren(s, 'hls:').length === 0, 6000, 'the muxer to stop');
    console.log(`# HLS: muxer stopped ${Math.round(gone)} ms after the last request ended (idle 2 s)`);
    assert.equal(ffmpegProcesses('hls').length, 0);
    assert.ok(!existsSync(`/proc/${child.pid}`) || ffmpegProcesses('hls').length === 0);
    await waitUntil(() => readdirSync(hlsDir).length === 0, 2000, 'its directory to be removed');
  });

  await t.test('stop() of the core leaves no muxer directory behind', async () => {
    assert.equal((await get(s, PLAYLIST)).status, 200);
    assert.equal(liveChildren(s, 'hls:').length, 1);
    await s.tc.core.stop('test');
    assert.equal(ffmpegProcesses('hls').length, 0);
    assert.ok(!existsSync(hlsDir), 'run/hls removed');
  });
});

/**
 * Downloads the init sections and segments of `segs` (asserting 200 each) and decodes each init section with its
 * segments by ffprobe (asserting no error and the frames of the listed durations at 25 fps).
 */
async function fetchAndProbe(
  t: TestContext,
  s: Slave,
  segs: Listed[],
): Promise<Array<{ map: string; size: string; segments: number }>> {
  const out = [];
  for (const map of new Set(segs.map((x) => x.map))) {
    const group = segs.filter((x) => x.map === map);
    const files = [];
    for (const uri of [map, ...group.map((x) => x.uri)]) {
      const r = await get(s, `/hls/f1/cam1/${uri}`);
      assert.equal(r.status, 200, `${uri}: ${r.body.toString().slice(0, 200)}`);
      assert.match(r.type, uri === map ? /^video\/mp4/ : /^video\/iso\.segment/);
      files.push(r.body);
    }
    const probed = await probeFile(t, tempFile(t, `run-${map}`, Buffer.concat(files)));
    assert.equal(probed.code, 0, probed.stderr);
    assert.equal(probed.stderr.trim(), '', `no decode errors in ${map} + ${group.map((x) => x.uri).join(' ')}`);
    const [codec, width, height, frames] = probed.stdout.trim().split('|');
    assert.equal(codec, 'h264');
    const expected = group.reduce((n, x) => n + x.duration * 25, 0);
    assert.ok(Math.abs(Number(frames) - expected) <= group.length, `${map}: ${frames} frames, ${expected} listed`);
    // The segments carry their parameter sets in-band too, so ffprobe would decode them after another run's init:
    // the init section alone must describe the same picture.
    const init = await probeFile(t, tempFile(t, map, files[0]!));
    assert.equal(init.stdout.split('|').slice(0, 3).join('|'), `h264|${width}|${height}`, `${map} of its segments`);
    out.push({ map, size: `${width}x${height}`, segments: group.length });
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A fixture response in the shape assertError reads. */
async function asResponse(p: ReturnType<typeof get>) {
  const r = await p;
  const headers = new Headers({ 'content-type': r.type });
  return { status: r.status, headers, text: r.body.toString('utf8'), json: r.json };
}
