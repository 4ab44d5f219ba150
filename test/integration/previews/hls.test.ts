/**
 * On-demand HLS of a real slave: the first playlist request starts one muxer and waits for the first segment; the
 * playlist is fMP4 (EXT-X-MAP) with keyframe-aligned 1 s segments that decode with ffprobe; auth by header or signed
 * link (forged, expired, other-stream links refused); the muxer, its process and its files go 2 s after the last request.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, assertError } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import {
  ffmpegProcesses,
  get,
  liveChildren,
  mintLink,
  probeFile,
  signWithNodeKey,
  startPreviewSlave,
  tempFile,
} from './fixture.js';

const PLAYLIST = '/hls/f1/cam1/index.m3u8';

/** `EXTINF` durations and URIs of a playlist. */
function segmentsOf(playlist: string): Array<{ duration: number; uri: string }> {
  const lines = playlist.split('\n');
  const out: Array<{ duration: number; uri: string }> = [];
  lines.forEach((line, i) => {
    const m = /^#EXTINF:([\d.]+),/.exec(line);
    if (!m) return;
    const uri = lines.slice(i + 1).find((l) => l && !l.startsWith('#'));
    if (uri) out.push({ duration: Number(m[1]), uri });
  });
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

  await t.test('init + segments decode with ffprobe: H.264 640x360, 25 frames per segment', async () => {
    const init = await get(s, '/hls/f1/cam1/init.mp4');
    assert.equal(init.status, 200);
    assert.match(init.type, /^video\/mp4/);
    const segs = segmentsOf(playlist).slice(-3, -1);
    const bodies = [];
    for (const seg of segs) {
      const r = await get(s, `/hls/f1/cam1/${seg.uri}`);
      assert.equal(r.status, 200, `${seg.uri}: ${r.body.toString().slice(0, 200)}`);
      bodies.push(r.body);
    }
    const file = tempFile(t, 'preview.mp4', Buffer.concat([init.body, ...bodies]));
    const probed = await probeFile(t, file);
    assert.equal(probed.code, 0, probed.stderr);
    assert.equal(probed.stderr.trim(), '', 'no decode errors');
    const [codec, width, height, frames] = probed.stdout.trim().split('|');
    assert.deepEqual([codec, width, height], ['h264', '640', '360']);
    assert.ok(Math.abs(Number(frames) - 25 * segs.length) <= 1, `frames: ${frames}`);
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

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A fixture response in the shape assertError reads. */
async function asResponse(p: ReturnType<typeof get>) {
  const r = await p;
  const headers = new Headers({ 'content-type': r.type });
  return { status: r.status, headers, text: r.body.toString('utf8'), json: r.json };
}
