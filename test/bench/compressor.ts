/**
 * Transcoding jobs of the compressor: N parallel 720p → 480p jobs (preset 480p-economy, libx264) run through a real
 * Supervisor + TranscodePool, against the same N ffmpeg commands spawned bare, in the same run. Prints one JSON line:
 *   {"bench":"compressor","preset","n","pool":{fps,cpuS,minSpeed,…},"bare":{…},"overheadRatio","ssim","bitrateRatio",
 *    "maxRealtimeJobs","jobsPerCore","loadavg","note",…}
 * Input: a real slave (the built CLI, role slave) with push cameras, each fed by `ffmpeg -re -stream_loop -1 -c copy`
 * of one 15 s 720p 4 Mbit/s clip (lib/quality.ts); every job is the compressor role's argv (jobArgs: F1 over
 * RTSP/TCP in, F2 published back over RTSP/TCP), identical on both sides. Each side runs alone in its own Node
 * process (lib/transcode-runner.ts); the sides alternate pool, bare, bare, pool … (`--rounds R` pairs, default 2),
 * each warmed up, then measured over `--seconds S` (default 20).
 *   overheadRatio = CPU per output frame of (ffmpeg + the pool's Node process) / that of the bare ffmpeg; on a shared
 *   machine separate runs of ffmpeg differ by more than the 2 % goal, so the JSON also gives overheadRatioDirect =
 *   (ffmpeg + the pool's Node process) / ffmpeg of the pool side alone, both measured over the same window.
 * Then the capacity: jobs are added to one pool one at a time (N = 1, 2, 3 … `--max M`, default 10) and each step is
 * measured for 10 s; the largest N at which every job keeps speed ≥ 0.97 with no restart is maxRealtimeJobs, and
 * jobsPerCore = maxRealtimeJobs / cores. The slave and the publishers share the machine (inputCpuPct).
 * Quality: the clip encoded file to file with encodeArgs of 480p-economy (and 720p-standard), SSIM against the source
 * run through the preset's own fps/scale filters, and the video bitrate over the source's.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { jobArgs, withCredentials } from '../../app/compressor/ffmpeg-args.js';
import { BUILT_IN_PRESETS, type EncodePreset } from '../../app/config/compressor.js';
import { isRunning } from '../helpers/processes.js';
import { numberOption } from './lib/args.js';
import { stopChildrenOnSignal } from './lib/proc.js';
import { round1, round3, sleep } from './lib/proc-stats.js';
import { FFMPEG, startPublisher, stopPublishers, type Publisher } from './lib/publisher.js';
import { encodeCameraClip, presetQuality, type Quality } from './lib/quality.js';
import { startSlave, type Slave } from './lib/slave.js';
import { startRunner, type Runner } from './lib/transcode-runner.js';
import { measureWindow, REALTIME_SPEED, sideFigures, waitWarm, type WindowResult } from './lib/transcode-window.js';

const N = Math.floor(numberOption('n', 2));
const SECONDS = numberOption('seconds', 20);
const MAX = Math.floor(numberOption('max', 10));
const ROUNDS = Math.floor(numberOption('rounds', 2));
/** No capacity step starts that would likely end after this many seconds of the run. */
const BUDGET_S = numberOption('budget', 320);
const STEP_S = Math.min(SECONDS, 10);
const PRESET = '480p-economy';
const CORES = availableParallelism();
/** Other users' CPU (% of one core) above which a failed capacity step is measured once more. */
const NOISY_PCT = 50;

const began = performance.now();
const elapsedS = () => (performance.now() - began) / 1000;
const log = (line: string) => process.stderr.write(`bench compressor [${Math.round(elapsedS())} s]: ${line}\n`);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

let slave: Slave | null = null;
const publishers: Publisher[] = [];
const runners = new Set<Runner>();

/** Stops a runner and checks that none of its ffmpeg processes outlived it (killing any that did). */
async function stopRunner(runner: Runner): Promise<void> {
  runners.delete(runner);
  await runner.stop();
  const left = [...runner.seenPids].filter(isRunning);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  if (left.length > 0) throw new Error(`${runner.mode}: ffmpeg ${left.join(', ')} outlived the runner`);
}

/** Waits until the slave's F1 serves every camera (its streams list is refreshed every 2 s). */
async function waitF1(s: Slave, cameras: string[]): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const online = new Set((await s.streams()).filter((x) => x.plane === 'f1').map((x) => x.stats.path));
    if (cameras.every((c) => online.has(c))) return;
    await sleep(500);
  }
  throw new Error(`F1 does not serve every camera:\n${await s.diagnose()}`);
}

/**
 * A fresh Node process does a burst of work (about 50-100 ms: V8 collects what start-up allocated) some 8 s after it
 * started; a long-running core does not. No window starts before a runner is this old.
 */
const RUNNER_SETTLE_MS = 12_000;

async function settled(startedAt: number): Promise<void> {
  await sleep(Math.max(0, RUNNER_SETTLE_MS - (performance.now() - startedAt)));
}

/** One side with n jobs: start, warm up, measure, stop. */
async function side(mode: 'pool' | 'bare', argv: string[][], n: number, inputPids: number[]): Promise<WindowResult> {
  const startedAt = performance.now();
  const runner = await startRunner(mode, FFMPEG, argv.slice(0, n));
  runners.add(runner);
  try {
    await runner.want(n);
    // The pool admits one job per tick once the running ones have a measured speed (about 5 s each).
    await waitWarm(runner, n, 30_000 + 8000 * n);
    await settled(startedAt);
    return await measureWindow(runner, n, SECONDS, inputPids);
  } finally {
    await stopRunner(runner);
  }
}

/** Adds jobs to one pool one at a time and measures each step; returns the steps. */
async function capacity(argv: string[][], inputPids: number[]) {
  const steps: Array<WindowResult & { retried?: boolean }> = [];
  let limitedBy = `--max ${MAX}`;
  const startedAt = performance.now();
  const runner = await startRunner('pool', FFMPEG, argv);
  runners.add(runner);
  try {
    for (let n = 1; n <= MAX; n++) {
      // Admission and warm-up (about 6 s), the window and perhaps its retry.
      if (elapsedS() + 2 * STEP_S + 8 > BUDGET_S) {
        limitedBy = `time budget (--budget ${BUDGET_S})`;
        break;
      }
      await runner.want(n);
      let step: WindowResult & { retried?: boolean };
      try {
        await waitWarm(runner, n, 40_000);
        await settled(startedAt);
        step = await measureWindow(runner, n, STEP_S, inputPids);
        if (!step.held && step.foreignPct >= NOISY_PCT) {
          log(`N=${n} failed with ${round1(step.foreignPct)}% foreign load (${step.why}); again`);
          step = { ...(await measureWindow(runner, n, STEP_S, inputPids)), retried: true };
        }
      } catch (error) {
        step = { ...emptyWindow(n), why: error instanceof Error ? error.message : String(error) };
      }
      steps.push(step);
      const cpu = (step.ffmpegCpuS + step.runnerCpuS) / Math.max(step.wallS, 1e-9);
      log(
        `N=${n} ${step.held ? 'held' : `FAILED (${step.why})`} speeds ${step.speeds.join(' ')}` +
          ` jobs ${round1(100 * cpu)}% input ${round1((100 * step.inputCpuS) / Math.max(step.wallS, 1e-9))}%` +
          ` machine ${round1(step.machinePct)}% foreign ${round1(step.foreignPct)}%`,
      );
      if (!step.held) {
        limitedBy = 'real time lost';
        break;
      }
    }
  } finally {
    await stopRunner(runner);
  }
  return { steps, limitedBy };
}

function emptyWindow(n: number): WindowResult {
  const zero = { wallS: 0, fps: 0, ffmpegCpuS: 0, runnerCpuS: 0, inputCpuS: 0, machinePct: 0, foreignPct: 0 };
  return { jobs: n, ...zero, speeds: [], minSpeed: 0, minSubSpeed: 0, held: false };
}

const qualityFigure = (q: Quality) => ({
  ssim: round3(q.ssim),
  kbps: Math.round(q.kbps),
  bitrateRatio: round3(q.bitrateRatio),
});

stopChildrenOnSignal();
try {
  const loadStart = loadavg();
  log('encoding the 720p camera clip (or reusing the one in the temp dir)');
  const clip = encodeCameraClip();
  log('quality: each preset file to file, SSIM against the source');
  const quality: Record<string, Quality> = {};
  for (const name of [PRESET, '720p-standard']) {
    quality[name] = presetQuality(clip, BUILT_IN_PRESETS[name] as EncodePreset);
    log(`${name}: SSIM ${round3(quality[name].ssim)} at ${Math.round(quality[name].kbps)} kbit/s`);
  }

  const cameras = Array.from({ length: Math.max(N, MAX) }, (_, i) => `cam${i}`);
  slave = await startSlave();
  const secret = await slave.createToken('bench-compressor');
  const publishUrls: string[] = [];
  for (const id of cameras) publishUrls.push(await slave.createCamera(id));
  await sleep(300); // the access tables reach the worker over IPC
  const publisher = startPublisher(clip, publishUrls);
  publishers.push(publisher);
  await waitF1(slave, cameras);
  const inputPids = [slave.corePid, slave.workerPid, publisher.started.child.pid!];
  // The compressor role's argv: the RTSP user is the token's id (Digest needs it), the password the token.
  const url = (port: number, path: string) =>
    withCredentials(`rtsp://127.0.0.1:${port}/${path}`, secret.slice(4, 16), secret);
  const preset = BUILT_IN_PRESETS[PRESET]!;
  const argv = cameras.map((c) =>
    jobArgs({ preset, encoder: 'libx264', f1Url: url(slave!.ports.f1Port, c), f2Url: url(slave!.ports.f2Port, c) }),
  );

  const windows: Record<'pool' | 'bare', WindowResult[]> = { pool: [], bare: [] };
  const order = Array.from({ length: ROUNDS }, (_, r) => (r % 2 === 0 ? ['pool', 'bare'] : ['bare', 'pool'])).flat();
  for (const mode of order as Array<'pool' | 'bare'>) {
    const w = await side(mode, argv, N, inputPids);
    windows[mode].push(w);
    log(
      `${mode} N=${N}: ${round1(w.fps)} fps, ffmpeg ${round3(w.ffmpegCpuS)} s + ${mode === 'pool' ? 'pool' : 'spawner'}` +
        ` ${round3(w.runnerCpuS)} s CPU in ${round1(w.wallS)} s, speeds ${w.speeds.join(' ')}, foreign ${round1(w.foreignPct)}%`,
    );
  }
  const pool = sideFigures(windows.pool, true);
  const bare = sideFigures(windows.bare, false);

  const { steps, limitedBy } = await capacity(argv, inputPids);
  const maxRealtimeJobs = steps.filter((s) => s.held).reduce((m, s) => Math.max(m, s.jobs), 0);
  const top = steps.find((s) => s.jobs === maxRealtimeJobs);
  const coresPerJob = top ? (top.ffmpegCpuS + top.runnerCpuS) / top.wallS / top.jobs : null;

  await stopPublishers(publishers.splice(0));
  const left = await slave.stop();
  slave = null;
  if (left.length > 0) throw new Error(`the slave left processes running after stop: ${left.join(', ')}`);
  const loadEnd = loadavg();
  const q = quality[PRESET]!;
  const foreign = [...windows.pool, ...windows.bare, ...steps].map((w) => w.foreignPct).sort((x, y) => x - y);
  const medianForeign = foreign[foreign.length >> 1] ?? 0;
  const noisy = loadStart[0]! > CORES * 0.5 || medianForeign > 25;
  const spread = Math.max(pool.spread, bare.spread);
  const note = [
    noisy
      ? `noisy: load average ${loadStart[0]} at the start on ${CORES} cores, others used ${Math.round(medianForeign)}% of a core (median; up to ${Math.round(foreign.at(-1) ?? 0)}%) during the windows; CPU figures vary and the capacity is a lower bound of an idle machine`
      : `quiet: load average ${loadStart[0]} at the start on ${CORES} cores, others used ${Math.round(medianForeign)}% of a core (median) during the windows`,
    'the load average at the end includes the capacity ramp itself (every x264 thread counts)',
    `overheadRatio compares separate runs: CPU per frame of the same side varied by ${round1(100 * spread)}% between its rounds${spread > 0.02 ? ', more than the 2% it is to resolve; overheadRatioDirect (the pool side alone, one window) does not depend on that' : ''}`,
    'the pool admitted every wanted job (its idle-CPU and speed checks off) so that both sides run exactly N',
    'the slave and the publishers run on this machine too (inputCpuPct)',
  ].join('; ');
  console.log(
    JSON.stringify({
      bench: 'compressor',
      preset: PRESET,
      n: N,
      seconds: SECONDS,
      rounds: ROUNDS,
      pool: pool.figure,
      bare: bare.figure,
      overheadRatio: round3(pool.perFrame / bare.perFrame),
      overheadRatioDirect: round3((pool.ffmpegCpuS + pool.runnerCpuS) / pool.ffmpegCpuS),
      overheadGoal: 1.02,
      ssim: round3(q.ssim),
      bitrateRatio: round3(q.bitrateRatio),
      quality: {
        sourceKbps: Math.round(q.sourceKbps),
        [PRESET]: qualityFigure(q),
        '720p-standard': qualityFigure(quality['720p-standard']!),
        goal: 'ssim ≥ 0.95 at ≤ 0.30 of the source bitrate',
      },
      maxRealtimeJobs,
      jobsPerCore: round3(maxRealtimeJobs / CORES),
      cores: CORES,
      coresPerJob: coresPerJob === null ? null : round3(coresPerJob),
      jobsPerCoreByCpu: coresPerJob ? round3(1 / coresPerJob) : null,
      limitedBy,
      steps: steps.map((s) => ({
        n: s.jobs,
        held: s.held,
        minSpeed: round3(s.minSpeed),
        minSpeed5s: round3(s.minSubSpeed),
        jobsCpuPct: s.wallS ? round1((100 * (s.ffmpegCpuS + s.runnerCpuS)) / s.wallS) : null,
        inputCpuPct: s.wallS ? round1((100 * s.inputCpuS) / s.wallS) : null,
        foreignPct: round1(s.foreignPct),
        ...(s.retried && { retried: true }),
        ...(s.why && { why: s.why }),
      })),
      source: { description: clip.description, kbps: Math.round(q.sourceKbps), seconds: clip.seconds },
      realtimeSpeed: REALTIME_SPEED,
      loadavg: { start: loadStart, end: loadEnd },
      note,
      durationS: Math.round(elapsedS()),
    }),
  );
} catch (error) {
  process.stderr.write(`bench compressor failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  for (const runner of [...runners]) await stopRunner(runner).catch(() => undefined);
  await stopPublishers(publishers.splice(0));
  if (slave) await slave.stop();
}
