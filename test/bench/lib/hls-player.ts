/**
 * hls.js in headless Chromium reading the frame number a coded camera burnt into the picture (lib/frame-code.ts, a
 * 640 px wide picture: 32 blocks of 20 px in the top band), for glass-to-glass measurements: each page plays one
 * HLS URL and records (Date.now(), frame number) for every presented frame (requestVideoFrameCallback). Each play
 * gets a page of its own, put at its server's origin (Playwright answers the page's URL), so that no request is
 * cross-origin. One tile plays at a time: four at once on a 2-core machine stalled each other at start (1-3 stalls
 * each, and hls.js raises its target latency by a second per stall), about 1 s more glass-to-glass than alone.
 */
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import { CODE_HEIGHT } from './frame-code.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../helpers/chromium.js';

const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
const WIDTH = 640;
const BLOCK = WIDTH / 32;

const PAGE = `<!doctype html><html><body>
<video id="v" muted playsinline width="${WIDTH}" height="360"></video>
<canvas id="c" width="${WIDTH}" height="${CODE_HEIGHT}"></canvas>
</body></html>`;

/**
 * Runs in the page: plays `src` with hls.js (`config` over its defaults) until `ms` after the first presented frame
 * (or `ms` + 15 s after loading, if none shows) and records every presented frame as [Date.now(), frame number or
 * -1 when a block and its complement disagree, hls.latency].
 */
const PLAYER = `(src, config, ms) => new Promise((resolve) => {
  const video = document.getElementById('v');
  const ctx = document.getElementById('c').getContext('2d', { willReadFrequently: true });
  const hls = new Hls(config);
  const t0 = Date.now();
  const out = { startMs: null, samples: [], errors: [], fatal: null, waiting: 0 };
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    resolve({ ...out, targetLatency: hls.targetLatency, currentTime: video.currentTime });
    hls.destroy();
  };
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) out.fatal = d.details; else out.errors.push(d.details); });
  video.addEventListener('playing', () => { out.startMs ??= Date.now() - t0; });
  video.addEventListener('waiting', () => { if (out.startMs !== null) out.waiting++; });
  const onFrame = () => {
    if (done) return;
    const now = Date.now();
    if (out.samples.length === 0) setTimeout(finish, ms);
    ctx.drawImage(video, 0, 0, ${WIDTH}, ${CODE_HEIGHT}, 0, 0, ${WIDTH}, ${CODE_HEIGHT});
    const px = ctx.getImageData(0, 0, ${WIDTH}, ${CODE_HEIGHT}).data;
    const bit = (i) => px[(${CODE_HEIGHT / 2} * ${WIDTH} + i * ${BLOCK} + ${BLOCK / 2}) * 4] > 128;
    let n = 0;
    for (let i = 0; i < 16; i++) {
      if (bit(i) === bit(16 + i)) { n = -1; break; }
      if (bit(i)) n += 2 ** i;
    }
    out.samples.push([now, n, hls.latency]);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {});
  setTimeout(finish, ms + 15000);
})`;

/** What one player recorded. */
export interface PlayerResult {
  startMs: number | null;
  /** [Date.now(), frame number (-1: unreadable), hls.latency (s behind the live edge as hls.js sees it)]. */
  samples: Array<[number, number, number]>;
  errors: string[];
  fatal: string | null;
  /** `waiting` events after playback started (stalls). */
  waiting: number;
  targetLatency: number | null;
  currentTime: number;
}

/** One player to run: `pageUrl` is any URL at the origin of `src` (the page is answered there). */
export interface PlayerSpec {
  name: string;
  pageUrl: string;
  src: string;
  config: Record<string, unknown>;
}

/** A headless Chromium that plays one spec at a time. */
export interface Player {
  /** Plays `spec` in a fresh page until `ms` after its first frame; what it recorded (the page is closed after). */
  play(spec: PlayerSpec, ms: number): Promise<PlayerResult>;
  close(): Promise<void>;
}

/** Launches Chromium (/usr/bin/chromium, the flags above). */
export async function launchPlayer(): Promise<Player> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  return {
    async play(spec, ms) {
      const page = await browser.newPage();
      try {
        await page.route(spec.pageUrl, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
        await page.goto(spec.pageUrl);
        await page.addScriptTag({ path: HLS_JS });
        const args = [spec.src, spec.config, ms].map((a) => JSON.stringify(a)).join(', ');
        // The page resolves by itself at the latest ms + 15 s after loading; a page that hangs must not hang the bench.
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${spec.name}: the player page hung`)), ms + 45_000);
        });
        try {
          return (await Promise.race([page.evaluate(`(${PLAYER})(${args})`), hung])) as PlayerResult;
        } finally {
          clearTimeout(timer);
        }
      } finally {
        await page.close();
      }
    },
    close: () => browser.close(),
  };
}
