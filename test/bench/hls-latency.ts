/**
 * Glass-to-glass of an HLS preview tile: one live camera (lib/live-camera.ts: testsrc2 640x360 25 fps, H.264 GOP 1 s,
 * its frame number burnt into the picture) pushes RTMP to a real slave (the built CLI); a real master (role master)
 * relays it. Headless Chromium plays with hls.js (lib/hls-player.ts), one tile at a time, each tile `--plays P`
 * times (default 12, interleaved) for a window of `--seconds S` / P (default 30 s in all) after 2 s of warm-up:
 *   - the slave's preview of F1 (`/hls/f1/cam1/index.m3u8`, signed link, hls.js defaults): the figure;
 *   - the master's preview of the relayed F1 (`/hls/f1/bench/cam1/…`);
 *   - the reference (lib/hls-reference.ts): a plain `ffmpeg -f hls` reading the same F1 over RTSP/TCP with the
 *     preview muxer's own command line (fMP4, 1 s segments), its files served as they are by a static Node HTTP
 *     server, played by hls.js told the target latency Cupola's playlist asks for (its HOLD-BACK, given as
 *     `liveSyncDuration`): the same segments at the same target, so what differs is what Cupola's serving adds.
 * These are warm plays: a keep-alive fetches the Cupola playlists every second, so their muxers run all along like
 * the reference's. Then `--cold-plays C` (default 3) plays of each Cupola tile after its muxer stopped
 * (previews.hlsIdleS = 2 s): the first viewer, who starts on the muxer's first segment.
 * Glass-to-glass = when a frame was presented in the page (Date.now(), the bench's clock) − when the camera encoded
 * it (from its `-progress` frame counts; the camera's own capture and encode delay left out). A play keeps the
 * distance to the live edge it started at (hls.js does not speed up by default), so plays differ by up to a segment
 * duration, depending on where in a segment's cycle each started: hence several short plays rather than one long.
 * Prints one JSON line:
 *   {"bench":"hls-latency","figure":{medianS,p95S,…},"reference":{…},"ratio","master":{…},"cold":{…},…}
 * ratio = figure's median / reference's median (frames of all warm plays pooled).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterRelay } from '../../app/roles/master.js';
import { numberOption } from './lib/args.js';
import { quantile } from './lib/frame-code.js';
import { launchPlayer, type Player, type PlayerResult, type PlayerSpec } from './lib/hls-player.js';
import { startHlsReference, type HlsReference } from './lib/hls-reference.js';
import { encodeBase, startLiveCamera, type LiveCamera } from './lib/live-camera.js';
import { onInterrupt, stop, stopChildrenOnSignal } from './lib/proc.js';
import { round3, sleep } from './lib/proc-stats.js';
import { startSlave, type Slave } from './lib/slave.js';

/** Measured seconds per tile, spread over `--plays P` plays (default 12) of SECONDS / P each. */
const SECONDS = numberOption('seconds', Number(process.env.BENCH_SECONDS) || 30);
const PLAYS = Math.floor(numberOption('plays', 12));
const WINDOW_S = SECONDS / PLAYS;
/** Played before each window, from the first presented frame on: hls.js settling on its target latency. */
const WARMUP_S = 2;
/** Plays of each Cupola tile whose muxer is not running when the player asks (`--cold-plays C`, default 3). */
const COLD_PLAYS = Math.floor(numberOption('cold-plays', 3));
/** previews.hlsIdleS of both cores: a muxer stops this long after its last request. */
const IDLE_S = 2;
const FPS = 25;
const SITE = 'bench';
const CAMERA = 'cam1';

const began = performance.now();
const log = (line: string) =>
  process.stderr.write(`bench hls-latency [${Math.round((performance.now() - began) / 1000)} s]: ${line}\n`);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const tokenId = (secret: string) => secret.slice(4, 16);

/** The frames one play presented in its window (after its warm-up). */
function steadyOf(result: PlayerResult): PlayerResult['samples'] {
  const first = result.samples[0]?.[0];
  if (first === undefined) return [];
  const [from, to] = [first + WARMUP_S * 1000, first + (WARMUP_S + WINDOW_S) * 1000];
  return result.samples.filter(([now]) => now >= from && now < to);
}

/** Glass-to-glass of one tile over its windows (one per play, pooled), in seconds. */
function g2g(results: PlayerResult[], base: number) {
  const delay = ([now, n]: PlayerResult['samples'][number]) => (now - (base + (n * 1000) / FPS)) / 1000;
  const plays = results.map((result) => {
    const steady = steadyOf(result);
    const read = steady.filter(([, n]) => n >= 0);
    const [a, b] = [read[0], read.at(-1)];
    const wallS = steady.length > 1 ? (steady.at(-1)![0] - steady[0]![0]) / 1000 : 0;
    return {
      steady,
      values: read.map(delay),
      codeRate: a && b && b[0] > a[0] ? ((b[1] - a[1]) * 1000) / (b[0] - a[0]) : 0,
      fps: wallS > 0 ? (steady.length - 1) / wallS : 0,
      unreadable: steady.length - read.length,
      jumps: read.slice(1).filter(([, n], i) => n - read[i]![1] > 1).length,
      hlsLatency: steady.map(([, , latency]) => latency).filter((x) => x > 0),
    };
  });
  const values = plays.flatMap((r) => r.values);
  const errors = [...new Set(results.flatMap((r) => r.errors))];
  const fatal = results.map((r) => r.fatal).filter(Boolean);
  return {
    medianS: round3(quantile(values, 0.5)),
    p95S: round3(quantile(values, 0.95)),
    minS: round3(Math.min(...values)),
    maxS: round3(Math.max(...values)),
    /** Each play keeps the distance to the live edge it started at (hls.js does not speed up by default), so the
     * plays differ by up to a segment duration, depending on when in a segment's cycle each started. */
    medianSByPlay: plays.map((r) => round3(quantile(r.values, 0.5))),
    /** hls.js's own latency estimate (behind the live edge it knows) and its target at the end, per play. */
    hlsLatencyS: plays.map((r) => round3(quantile(r.hlsLatency, 0.5))),
    targetLatencyS: results.map((r) => r.targetLatency),
    firstFrameMs: results.map((r) => r.startMs),
    frames: values.length,
    presentedFps: plays.map((r) => round3(r.fps)),
    /** Frame numbers advance at the camera's rate (25) when the code is read right and playback is real time. */
    codeRate: plays.map((r) => round3(r.codeRate)),
    unreadable: plays.reduce((sum, r) => sum + r.unreadable, 0),
    /** Presented frames after which one or more frame numbers were missing (jumps in playback). */
    jumps: plays.reduce((sum, r) => sum + r.jumps, 0),
    /** `waiting` events after playback started (each raises hls.js's target latency). */
    stalls: results.map((r) => r.waiting),
    ...(fatal.length > 0 && { fatal }),
    ...(errors.length > 0 && { errors }),
  };
}

/** Median glass-to-glass (s) of each 3 s of the whole run, warm-up included: how a player settled. */
function timeline(result: PlayerResult, base: number): string {
  const first = result.samples[0]?.[0] ?? 0;
  const chunks: number[][] = [];
  for (const [now, n] of result.samples) {
    if (n < 0) continue;
    (chunks[Math.floor((now - first) / 3000)] ??= []).push((now - (base + (n * 1000) / FPS)) / 1000);
  }
  return chunks.map((c) => quantile(c, 0.5).toFixed(2)).join(' ');
}

/** Fetches every playlist each second (their muxers keep running) until stop() resolves. */
function keepWarm(urls: string[]): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
      await Promise.all(urls.map((url) => get(url).catch(() => '')));
      await sleep(1000);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Waits until `core` runs no HLS muxer (its idle timer of IDLE_S after the last request has run out). */
async function muxersStopped(core: Slave): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { children } = (await core.api('/api/v1/children')) as {
      children: Array<{ name: string; pid: number | null }>;
    };
    if (!children.some((c) => c.name.startsWith('hls:') && c.pid !== null)) return;
    if (Date.now() > deadline) throw new Error('an HLS muxer did not stop after its idle time');
    await sleep(250);
  }
}

stopChildrenOnSignal();
const dir = mkdtempSync(join(tmpdir(), 'cupola-bench-hls-'));
onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
let slave: Slave | null = null;
let master: Slave | null = null;
let camera: LiveCamera | null = null;
let reference: HlsReference | null = null;
let player: Player | null = null;
let keepAlive: ReturnType<typeof keepWarm> | null = null;
try {
  const loadStart = loadavg();
  const set = { 'previews.hlsIdleS': String(IDLE_S) };
  slave = await startSlave({ set });
  const publishUrl = await slave.createCamera(CAMERA);
  const slaveToken = await slave.createToken('bench-master');
  master = await startSlave({
    role: 'master',
    config: { master: { slaves: [{ url: slave.base, token: slaveToken, site: SITE }] } },
    set,
  });
  await sleep(300); // the access tables reach the workers over IPC
  camera = startLiveCamera(publishUrl, '640x360', FPS);
  const m = master;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const relays = ((await m.api('/api/v1/relays')) as { relays: MasterRelay[] }).relays;
    if (relays.some((r) => r.plane === 'f1' && r.state === 'playing')) break;
    if (Date.now() > deadline) throw new Error(`the master does not relay ${CAMERA}: ${camera.started.tail()}`);
    await sleep(500);
  }
  log('the camera is relayed; starting the reference muxer');
  const source = `rtsp://${tokenId(slaveToken)}:${slaveToken}@127.0.0.1:${slave.ports.f1Port}/${CAMERA}`;
  reference = await startHlsReference(source, join(dir, 'ref'));
  const refOrigin = new URL(reference.url).origin;

  const link = async (core: Slave, stream: string) =>
    `${core.base}${((await core.api('/api/v1/previews/token', { stream })) as { hls: string }).hls}`;
  const slaveSrc = await link(slave, `f1/${CAMERA}`);
  const masterSrc = await link(master, `f1/${SITE}/${CAMERA}`);
  // The first request starts the muxers and waits for their first segment; the HOLD-BACK is read from the answer.
  const [slavePlaylist] = await Promise.all([
    fetch(slaveSrc).then((r) => r.text()),
    fetch(masterSrc).then((r) => r.text()),
  ]);
  keepAlive = keepWarm([slaveSrc, masterSrc]);
  const holdBack = Number(/HOLD-BACK=([\d.]+)/.exec(slavePlaylist)?.[1] ?? NaN);
  if (!Number.isFinite(holdBack)) throw new Error(`no HOLD-BACK in the slave's playlist:\n${slavePlaylist}`);
  const specs: PlayerSpec[] = [
    { name: 'slave', pageUrl: `${slave.base}/__bench-player.html`, src: slaveSrc, config: {} },
    {
      name: 'reference',
      pageUrl: `${refOrigin}/__player.html`,
      src: reference.url,
      config: { liveSyncDuration: holdBack },
    },
    { name: 'master', pageUrl: `${master.base}/__bench-player.html`, src: masterSrc, config: {} },
  ];
  const results: Record<string, PlayerResult[]> = Object.fromEntries(specs.map((spec) => [spec.name, []]));
  const cold: Record<string, PlayerResult[]> = { slave: [], master: [] };
  const loadPlay: number[][] = [];
  const playMs = (WARMUP_S + WINDOW_S) * 1000;
  player = await launchPlayer();
  const p = player;
  log(`warm: ${PLAYS} plays of each tile, ${WARMUP_S} + ${WINDOW_S} s each, one at a time (HOLD-BACK ${holdBack} s)`);
  await sleep(6000); // every playlist lists its 6 segments
  for (let play = 0; play < PLAYS; play++) {
    // Every other play in reverse order, so that a drift of the machine's load does not favour one tile.
    for (const spec of play % 2 === 0 ? specs : [...specs].reverse()) {
      loadPlay.push(loadavg());
      results[spec.name]!.push(await p.play(spec, playMs));
    }
    log(`warm play ${play + 1}/${PLAYS} of each tile done`);
  }
  await keepAlive.stop();
  keepAlive = null;
  for (let play = 0; play < COLD_PLAYS; play++) {
    for (const [core, spec] of [
      [slave, specs[0]!],
      [master, specs[2]!],
    ] as const) {
      await muxersStopped(core);
      loadPlay.push(loadavg());
      cold[spec.name]!.push(await p.play(spec, playMs));
    }
    log(`cold play ${play + 1}/${COLD_PLAYS} of each Cupola tile done`);
  }
  await p.close();
  player = null;
  const loadEnd = loadavg();
  if (camera.started.child.exitCode !== null) throw new Error(`the camera exited: ${camera.started.tail()}`);
  const base = encodeBase(camera);
  for (const [name, list] of Object.entries(results))
    log(`${name}: glass-to-glass of each play, every 3 s: ${list.map((r) => timeline(r, base)).join(' | ')}`);
  const figures = Object.fromEntries(Object.entries(results).map(([name, list]) => [name, g2g(list, base)]));
  const coldFigures = Object.fromEntries(Object.entries(cold).map(([name, list]) => [name, g2g(list, base)]));
  log(`results: ${JSON.stringify(figures)}; cold: ${JSON.stringify(coldFigures)}`);
  const fig = figures.slave!;
  const ref = figures.reference!;
  if (!(fig.frames > 0 && ref.frames > 0)) throw new Error(`a player showed nothing: ${JSON.stringify(figures)}`);
  console.log(
    JSON.stringify({
      bench: 'hls-latency',
      figure: { name: 'Cupola slave: HLS preview of F1 (signed link), hls.js defaults', ...fig },
      reference: {
        name:
          'plain ffmpeg -f hls of the same F1 (hlsArgs: fMP4, 1 s segments), static files, ' +
          `hls.js liveSyncDuration ${holdBack}`,
        why:
          'the same segments from the same RTSP input, served as plain files and played at the same target latency: ' +
          'what remains is what Cupola adds (on-demand muxer, auth, playlist rewriting, its HTTP server)',
        ...ref,
      },
      ratio: round3(fig.medianS / ref.medianS),
      unit: 'glass-to-glass seconds (camera encoder output → frame presented in Chromium); ratio of the medians',
      master: { name: 'Cupola master: HLS preview of the relayed F1, hls.js defaults', ...figures.master },
      /** Players that asked while no muxer ran: they start on its first segment, closer to the live edge. */
      cold: coldFigures,
      holdBackS: holdBack,
      camera: 'testsrc2 640x360 25 fps, libx264 ultrafast zerolatency, GOP 1 s, live',
      windowS: SECONDS,
      plays: PLAYS,
      machine: {
        cores: cpus().length,
        loadavg: {
          start: loadStart,
          /** Lowest and highest 1-minute load average at the start of a play. */
          plays: [Math.min(...loadPlay.map((l) => l[0]!)), Math.max(...loadPlay.map((l) => l[0]!))],
          end: loadEnd,
        },
      },
      seconds: Math.round((performance.now() - began) / 1000),
    }),
  );
} catch (error) {
  process.stderr.write(`bench hls-latency failed: ${error instanceof Error ? error.message : String(error)}\n`);
  if (slave) process.stderr.write(`slave: ${await slave.diagnose()}\n`);
  if (master) process.stderr.write(`master: ${await master.diagnose()}\n`);
  process.exitCode = 1;
} finally {
  await keepAlive?.stop();
  await player?.close();
  await reference?.stop();
  if (camera) await stop(camera.started, 3000);
  const left = [...((await master?.stop()) ?? []), ...((await slave?.stop()) ?? [])];
  if (left.length > 0) {
    process.stderr.write(`bench hls-latency: a core left processes running after stop: ${left.join(', ')}\n`);
    process.exitCode = 1;
  }
  rmSync(dir, { recursive: true, force: true });
}
