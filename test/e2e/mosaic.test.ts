/**
 * The mosaic in headless Chromium against a real slave-role core (`cupola serve` child) with two push cameras:
 * `entrance` published by ffmpeg over RTMP from the start, `yard` offline until the test publishes it. Checks that
 * a tile really plays (videoWidth, currentTime advancing), captions, badges, one-at-a-time start, backoff retries
 * of an offline stream and its recovery, the grid cap, and that leaving the view destroys the players (no HLS
 * request after, the core's muxers stop). No console error beyond the expected 503s of the offline playlist, no
 * CSP violation.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TokenPair } from '../../app/defs/api.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { api, until } from '../helpers/http.js';
import { spawnPeer, type Peer } from '../helpers/peers.js';
import { startCoreProcess, type CoreProcess } from './helpers/core-process.js';
import { cspViolations, watchPage } from './helpers/page-watch.js';

/** Where the screenshot goes, for a human (or a reviewing agent) to look at. */
export const SCREENSHOT = join(tmpdir(), 'cupola-e2e-mosaic.png');

const FFMPEG = '/usr/bin/ffmpeg';
const SITE = 'north-yard';
const WIDTH = 320;

/** A small live camera (H.264 320x180, 25 fps, 1 s GOP, no audio: previews drop it anyway) pushed over RTMP. */
function cameraArgs(publishUrl: string): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x180:rate=25`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-an'],
    ...['-f', 'flv', publishUrl],
  ];
}

interface HlsRequest {
  at: number;
  url: string;
}

/** Requests of the page under /hls/ (the players'), with the time they were seen. */
function recordHls(page: Page): HlsRequest[] {
  const seen: HlsRequest[] = [];
  page.on('request', (req) => {
    if (new URL(req.url()).pathname.startsWith('/hls/')) seen.push({ at: Date.now(), url: req.url() });
  });
  return seen;
}

const playlistOf = (seen: HlsRequest[], key: string) => seen.filter((r) => r.url.includes(`/hls/${key}/index.m3u8`));

/** What the page measures of the `<video>` of one tile. */
interface VideoState {
  videoWidth: number;
  videoHeight: number;
  currentTime: number;
  paused: boolean;
  muted: boolean;
  src: string;
  mark: string | null;
}

function videoState(page: Page, key: string): Promise<VideoState> {
  return page.evaluate(`(() => {
    const v = document.querySelector('[data-stream="${key}"] video');
    return { videoWidth: v.videoWidth, videoHeight: v.videoHeight, currentTime: v.currentTime, paused: v.paused,
      muted: v.muted, src: v.src, mark: v.getAttribute('data-e2e-mark') };
  })()`);
}

const tile = (page: Page, key: string, state?: string) =>
  page.locator(`[data-stream="${key}"]${state ? `[data-state="${state}"]` : ''}`);

test(
  'mosaic: live tiles play one after another, retry offline streams, and stop when left',
  { timeout: 90_000 },
  async (t) => {
    const t0 = Date.now();
    const mark = (what: string) => process.stdout.write(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}\n`);
    const core: CoreProcess = await startCoreProcess({
      'node.role': 'slave',
      'node.name': 'e2e-mosaic',
      // Muxers stop 1 s after their last request, so that the test sees the players' end on the core too.
      'previews.hlsIdleS': '1',
    });
    let browser: Browser | null = null;
    t.after(async () => {
      await browser?.close();
      await core.stop();
    });
    mark('core up');

    const login = await api(core.url, '/api/v1/auth/login', { body: { password: core.password } });
    assert.equal(login.status, 200, login.text);
    const token = (login.json as TokenPair).accessToken;
    const publishUrls: Record<string, string> = {};
    for (const [id, name] of [
      ['entrance', 'Entrance'],
      ['yard', 'Yard'],
    ] as const) {
      const res = await api(core.url, '/api/v1/cameras', {
        token,
        body: { id, name, site: SITE, source: { kind: 'rtmp-push' } },
      });
      assert.equal(res.status, 201, res.text);
      publishUrls[id] = (res.json as { grant: { publishUrl: string } }).grant.publishUrl;
    }
    const served = async (path: string) => {
      const res = await api(core.url, '/api/v1/streams', { token });
      const list = (res.json as { streams: Array<{ plane: string; stats: { path: string; publisher: unknown } }> })
        .streams;
      return list.some((s) => s.plane === 'f1' && s.stats.path === path && s.stats.publisher !== null);
    };
    const cameras: Peer[] = [];
    const publish = async (id: string) => {
      const cam = spawnPeer(t, FFMPEG, cameraArgs(publishUrls[id]!));
      cameras.push(cam);
      await until(() => served(id), 15_000, `F1 ${id} online`).catch(async (err: Error) => {
        const out = cam.running() ? '' : (await cam.done).stderr;
        throw new Error(`${err.message}\nffmpeg: ${out}\ncore: ${core.output().slice(-2000)}`);
      });
    };
    await new Promise((r) => setTimeout(r, 200)); // the access tables reach the media worker over IPC
    await publish('entrance');
    mark('entrance online on F1');

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const offlinePlaylist = /\/hls\/f[12]\/yard\/index\.m3u8/;
    const seen = await watchPage(page, {
      // Chrome logs each 503 of the offline camera's playlist; hls.destroy() aborts what a player had in flight.
      allowConsole: (msg) => /status of 503/.test(msg.text()) && offlinePlaylist.test(msg.location().url),
      allowFailed: (req) =>
        new URL(req.url()).pathname.startsWith('/hls/') && req.failure()?.errorText === 'net::ERR_ABORTED',
    });
    const hls = recordHls(page);
    await page.goto(`${core.url}/`);
    await page.fill('#password', core.password);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=node-name]').waitFor({ timeout: 10_000 });

    const opened = Date.now();
    await page.click('nav >> text=Mosaic');

    await t.test('the live camera plays: F2 chosen, F1 shown as the fallback, near the live edge', async () => {
      // No compressor on this slave, so there is no F2: the tile falls back to F1 and says so.
      await tile(page, 'f1/entrance', 'playing').waitFor({ timeout: 20_000 });
      mark(`entrance playing ${Date.now() - opened} ms after opening the mosaic`);
      const a = await videoState(page, 'f1/entrance');
      await new Promise((r) => setTimeout(r, 2000));
      const b = await videoState(page, 'f1/entrance');
      mark(
        `video ${a.videoWidth}x${a.videoHeight}, currentTime ${a.currentTime.toFixed(2)} → ${b.currentTime.toFixed(2)}`,
      );
      assert.equal(a.videoWidth, WIDTH, 'decoded picture');
      assert.equal(a.videoHeight, 180);
      assert.ok(b.currentTime - a.currentTime > 1.2, `currentTime advanced ${b.currentTime - a.currentTime} s in 2 s`);
      assert.equal(b.paused, false);
      assert.equal(b.muted, true);
      assert.match(b.src, /^blob:/, 'played through MediaSource (hls.js), not a src URL');
      const caption = await tile(page, 'f1/entrance').locator('figcaption').innerText();
      assert.match(caption, /Entrance/);
      assert.match(caption, new RegExp(SITE));
      const chip = tile(page, 'f1/entrance').locator('.feed-chip');
      assert.equal(await chip.innerText(), 'F1');
      assert.match((await chip.getAttribute('class')) ?? '', /fallback/);
      assert.equal(await page.getByRole('group', { name: 'Feed' }).locator('[aria-pressed=true]').innerText(), 'F2');
      const latency = (await page.evaluate(`(() => {
      const v = document.querySelector('[data-stream="f1/entrance"] video');
      return v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : -1;
    })()`)) as number;
      mark(`buffered ahead of the playhead: ${latency.toFixed(2)} s`);
      await page.screenshot({ path: SCREENSHOT });
    });

    await t.test('the offline camera shows offline, and tiles started one after another', async () => {
      const yard = tile(page, 'f2/yard', 'offline');
      await yard.waitFor({ timeout: 10_000 });
      // It flips to starting for each retry: read the detail while it is offline.
      await until(
        async () =>
          /camera offline · retry in \d+ s/.test(await yard.locator('.tile-detail').innerText({ timeout: 500 })),
        10_000,
        'the offline detail of f2/yard',
      );
      assert.match(await tile(page, 'f2/yard').locator('figcaption').innerText(), /Yard/);
      const first = playlistOf(hls, 'f1/entrance')[0];
      const second = playlistOf(hls, 'f2/yard')[0];
      assert.ok(first && second, 'both tiles asked for their playlist');
      // Entrance's first playlist takes seconds (the muxer's first segment); at once would be a few ms apart.
      const gap = second.at - first.at;
      mark(`yard's first playlist request ${gap} ms after entrance's`);
      assert.ok(gap >= 1500, `the second tile started ${gap} ms after the first: not one after another`);
    });

    await t.test('F1 chosen: the playing tile is kept, the offline one retries with growing delays', async () => {
      await page.evaluate(
        `document.querySelector('[data-stream="f1/entrance"] video').setAttribute('data-e2e-mark', '1')`,
      );
      const before = (await videoState(page, 'f1/entrance')).currentTime;
      await page.getByRole('group', { name: 'Feed' }).getByRole('button', { name: 'F1', exact: true }).click();
      const yard = tile(page, 'f1/yard');
      await yard.waitFor({ timeout: 5000 });
      await until(async () => playlistOf(hls, 'f1/yard').length >= 3, 12_000, 'three playlist requests of f1/yard');
      const at = playlistOf(hls, 'f1/yard').map((r) => r.at);
      const gaps = [at[1]! - at[0]!, at[2]! - at[1]!];
      mark(`f1/yard retried after ${gaps.join(' ms, ')} ms`);
      assert.ok(gaps[0]! >= 600, `first retry after ${gaps[0]} ms`);
      // 1 s then 2 s, each ±20 %: the second gap is at least 1.33 times the first.
      assert.ok(gaps[1]! > 1.25 * gaps[0]!, `backoff grows: ${gaps.join(', ')} ms`);
      const after = await videoState(page, 'f1/entrance');
      assert.equal(after.mark, '1', 'the entrance tile (same stream) was not remounted');
      assert.ok(after.currentTime > before, 'and kept playing');
    });

    await t.test('a camera coming online starts playing without a reload', async () => {
      const published = Date.now();
      await publish('yard');
      mark(`yard online on F1 after ${Date.now() - published} ms`);
      await tile(page, 'f1/yard', 'playing').waitFor({ timeout: 20_000 });
      mark(`yard playing ${Date.now() - published} ms after its camera started`);
      const v = await videoState(page, 'f1/yard');
      assert.equal(v.videoWidth, WIDTH);
      const previews = await api(core.url, '/api/v1/previews', { token });
      const streams = (previews.json as { hls: Array<{ stream: string }> }).hls.map((m) => m.stream).sort();
      assert.deepEqual(streams, ['f1/entrance', 'f1/yard'], 'one muxer per playing tile on the core');
    });

    await t.test('the grid caps the live tiles; a click shows one tile alone', async () => {
      const grid = page.getByRole('group', { name: 'Tiles per page' });
      await grid.getByRole('button', { name: '1', exact: true }).click();
      await until(async () => (await page.locator('video').count()) === 1, 5000, 'one video at grid 1');
      assert.equal(await page.getByTestId('mosaic-page').innerText(), '1 / 2');
      await grid.getByRole('button', { name: '4', exact: true }).click();
      await until(async () => (await page.locator('video').count()) === 2, 5000, 'two videos at grid 4');
      await tile(page, 'f1/yard').click();
      await until(async () => (await page.locator('.mosaic-grid.g1 video').count()) === 1, 5000, 'yard alone');
      await page.keyboard.press('Escape');
      await until(async () => (await page.locator('.mosaic-grid.g4 video').count()) === 2, 5000, 'back to the grid');
    });

    await t.test('leaving the view destroys the players: no HLS request after, the muxers stop', async () => {
      const left = Date.now();
      await page.click('nav >> text=Dashboard');
      await page.locator('[data-testid=event-feed]').waitFor();
      assert.equal(await page.locator('video').count(), 0);
      await new Promise((r) => setTimeout(r, 2500));
      const late = hls.filter((r) => r.at > left + 300);
      assert.deepEqual(late, [], 'HLS requests after leaving the mosaic');
      await until(
        async () => ((await api(core.url, '/api/v1/previews', { token })).json as { hls: unknown[] }).hls.length === 0,
        8000,
        'the core to stop every muxer after the viewers left',
      );
      mark(`left the mosaic: ${hls.length} HLS requests in all, none after; muxers stopped`);
    });

    await t.test('no console errors, no CSP violations', async () => {
      assert.deepEqual(await cspViolations(page), [], 'CSP violations');
      assert.deepEqual(seen.errors, [], 'console errors');
      assert.ok(seen.allowed.length > 0, 'the offline playlist 503s were seen (the watcher works)');
      mark(`expected console errors / aborted requests: ${seen.allowed.length}`);
    });
    for (const cam of cameras) assert.ok(cam.running(), 'the cameras kept publishing');
  },
);
