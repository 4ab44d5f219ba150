/**
 * hls.js in headless Chromium plays an HLS preview from a signed link (no headers, no cookie) and stays near the
 * live edge. The camera burns its frame number into the picture as 16 black/white blocks and reports frame numbers
 * with wall-clock times on -progress, so the page can measure glass-to-glass: display time minus the time the camera
 * encoded the frame on screen (the camera's own capture/encode delay excluded).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { spawn } from 'node:child_process';
import type { Scope } from '../../helpers/core.js';
import { trackPeer } from '../../helpers/peers.js';
import { addCamera, startSlave, waitOnline } from '../slave/slave.js';
import { FFMPEG, mintLink } from './fixture.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../helpers/chromium.js';

const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
const FPS = 25;
const BIT_PX = 20;

/** The reference camera plus a 320x16 strip at the top-left: block i (20 px) is white when bit i of the frame number is set. */
function codedCameraArgs(url: string): string[] {
  const code = `255*mod(floor(N/pow(2,floor(X/${BIT_PX}))),2)`;
  return [
    ...[
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=640x360:rate=${FPS}`,
    ],
    ...['-re', '-f', 'lavfi', '-i', `nullsrc=size=320x16:rate=${FPS},format=gray`],
    ...['-filter_complex', `[1:v]geq=lum='${code}'[code];[0:v][code]overlay=0:0:shortest=1,format=yuv420p[v]`],
    ...['-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(FPS)],
    ...['-f', 'flv', url, '-progress', 'pipe:1', '-stats_period', '0.1'],
  ];
}

const PAGE = `<!doctype html><html><body>
<video id="v" muted playsinline width="640" height="360"></video>
<canvas id="c" width="320" height="16"></canvas>
</body></html>`;

/** Runs in the page: plays `src` with hls.js defaults and records (Date.now(), frame number) per presented frame. */
const PLAYER = `(src) => new Promise((resolve, reject) => {
  const video = document.getElementById('v');
  const ctx = document.getElementById('c').getContext('2d', { willReadFrequently: true });
  const hls = new Hls();
  const t0 = Date.now();
  const out = { startMs: null, samples: [], latency: [], pdt: [], errors: [] };
  window.__out = out;
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) reject(new Error('hls.js: ' + d.details)); else out.errors.push(d.details); });
  video.addEventListener('playing', () => { out.startMs ??= Date.now() - t0; });
  const onFrame = () => {
    ctx.drawImage(video, 0, 0, 320, 16, 0, 0, 320, 16);
    const px = ctx.getImageData(0, 0, 320, 16).data;
    let n = 0;
    for (let i = 0; i < 16; i++) if (px[(8 * 320 + i * ${BIT_PX} + ${BIT_PX / 2}) * 4] > 128) n += 2 ** i;
    out.samples.push([Date.now(), n]);
    if (hls.latency) out.latency.push(hls.latency);
    if (hls.playingDate) out.pdt.push(Date.now() - hls.playingDate.getTime());
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {});
  setTimeout(() => resolve({ ...out, targetLatency: hls.targetLatency, currentTime: video.currentTime }), 12000);
})`;

interface PlayerResult {
  startMs: number | null;
  samples: Array<[number, number]>;
  latency: number[];
  pdt: number[];
  errors: string[];
  targetLatency: number | null;
  currentTime: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

test('hls.js plays a signed HLS link near the live edge; glass-to-glass measured', { timeout: 90_000 }, async (t) => {
  const s = await startSlave(t, { flags: { 'previews.hlsIdleS': '2' } });
  const grant = await addCamera(s, 'cam1');
  await new Promise((r) => setTimeout(r, 200)); // the access tables reach the worker over IPC
  const camera = spawnCamera(t, codedCameraArgs(grant.publishUrl));
  await waitOnline(s, 'f1', 'cam1');
  const link = await mintLink(s, 'f1/cam1');

  let browser: Browser | null = null;
  t.after(() => browser?.close());
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  const pageUrl = `${s.tc.url}/__preview-player.html`;
  await page.route(pageUrl, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
  await page.goto(pageUrl);
  await page.addScriptTag({ path: HLS_JS });
  const result = (await page.evaluate(`(${PLAYER})(${JSON.stringify(link.hls)})`)) as PlayerResult;

  // When the camera encoded frame n: the earliest bound over its -progress blocks (printed after frame N-1 was encoded).
  assert.ok(camera.running(), 'the camera is still running');
  let base = Infinity;
  let frame = 0;
  for (const { at, line } of camera.lines) {
    const m = /^frame=(\d+)$/.exec(line);
    if (m) frame = Number(m[1]);
    else if (line.startsWith('progress=') && frame > 0) base = Math.min(base, at - ((frame - 1) * 1000) / FPS);
  }
  assert.ok(Number.isFinite(base), 'the camera reported progress');
  const steady = result.samples.filter(([now]) => now - result.samples[0]![0] > 3000);
  const g2g = steady.map(([now, n]) => (now - (base + (n * 1000) / FPS)) / 1000);
  const advanced = result.currentTime;
  console.log(
    `# HLS player: first frame ${result.startMs} ms after loadSource; currentTime ${advanced.toFixed(2)} s; ` +
      `hls.latency (to live edge) median ${median(result.latency.slice(-50)).toFixed(2)} s, target ${result.targetLatency}; ` +
      `glass-to-glass median ${median(g2g).toFixed(2)} s (min ${Math.min(...g2g).toFixed(2)}, max ${Math.max(...g2g).toFixed(2)}); ` +
      `PDT-based ${(median(result.pdt.slice(-50)) / 1000).toFixed(2)} s; non-fatal errors ${JSON.stringify(result.errors)}`,
  );
  assert.ok(result.startMs !== null, 'the video started playing');
  assert.ok(advanced > 5, `video.currentTime advanced: ${advanced}`);
  assert.ok(steady.length > 100, `frames presented: ${steady.length}`);
  // The frame numbers read from the picture advance at the camera's rate: the code is read right.
  const [first, last] = [steady[0]!, steady.at(-1)!];
  const codeRate = ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  assert.ok(Math.abs(codeRate - FPS) < 3, `frame numbers advance at ${codeRate} per second`);
  assert.ok(median(g2g) > 0 && median(g2g) <= 3, `glass-to-glass ${median(g2g)} s (target ≤ 3 s)`);
});

/** The camera: ffmpeg whose stdout lines are kept with the wall-clock time (Date.now()) they arrived at. */
function spawnCamera(scope: Scope, args: string[]): { running(): boolean; lines: Array<{ at: number; line: string }> } {
  const child = spawn(FFMPEG, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const peer = trackPeer(scope, child);
  const lines: Array<{ at: number; line: string }> = [];
  let partial = '';
  child.stdout!.on('data', (chunk: string) => {
    const at = Date.now();
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push({ at, line: line.trim() });
  });
  return { running: () => peer.running(), lines };
}
