/**
 * One measurement window of the compressor bench over a runner (lib/transcode-runner.ts): waits until its jobs are
 * warm, then over a fixed window takes the jobs' output rate and speed (from their `-progress` blocks, timed when
 * they arrived), the CPU of their ffmpeg processes (/proc), of the runner (its own process.cpuUsage) and of the
 * input side (slave + publisher), and what the rest of the machine did meanwhile.
 */
import { availableParallelism } from 'node:os';
import { readMachineTicks } from '../../../app/compressor/cpu.js';
import { CLK_TCK, cpuTicks, round1, round3, sleep } from './proc-stats.js';
import type { JobSample, Runner, RunnerSample } from './transcode-runner.js';

/** Every job keeps at least this speed over the window, and none restarted: real time held. */
export const REALTIME_SPEED = 0.97;
/** Media time every job has produced before a window starts (start-up burst and rate-control warm-up left out). */
const WARMUP_MS = 5000;
/** Speeds are also taken over sub-windows of about this length (the smallest one is reported). */
const SUB_WINDOW_MS = 5000;

/** What one window measured. */
export interface WindowResult {
  jobs: number;
  wallS: number;
  /** Output frames per second, summed over the jobs. */
  fps: number;
  /** CPU seconds of the jobs' ffmpeg processes, of the runner (pool or bare spawner) and of the input side. */
  ffmpegCpuS: number;
  runnerCpuS: number;
  inputCpuS: number;
  /** Per job: media time over wall time across the window; the lowest, and the lowest over any sub-window. */
  speeds: number[];
  minSpeed: number;
  minSubSpeed: number;
  /** Busy share of the machine (% of all cores) and other users' CPU (% of one core) over the window. */
  machinePct: number;
  foreignPct: number;
  held: boolean;
  why?: string;
}

/** Polls until jobs 0 … n-1 all run and have produced WARMUP_MS of media; throws after `timeoutMs`. */
export async function waitWarm(runner: Runner, n: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: RunnerSample | null = null;
  while (performance.now() < deadline) {
    last = await runner.sample();
    const warm = last.jobs.filter((j) => j.index < n && j.pid && (j.outMs ?? 0) >= WARMUP_MS);
    if (warm.length === n) return;
    await sleep(500);
  }
  const states = last?.jobs.map((j) => `#${j.index} ${j.state} out ${j.outMs} ms: ${j.lastLine ?? ''}`).join('; ');
  throw new Error(`${runner.mode}: ${n} jobs not warm within ${timeoutMs / 1000} s (${states})`);
}

const speedBetween = (a: JobSample, b: JobSample) =>
  a.at !== null && b.at !== null && b.at > a.at ? ((b.outMs ?? 0) - (a.outMs ?? 0)) / (b.at - a.at) : 0;

/** Measures `runner`'s first `n` jobs over `seconds`; `inputPids` are the slave's and the publisher's processes. */
export async function measureWindow(
  runner: Runner,
  n: number,
  seconds: number,
  inputPids: number[],
): Promise<WindowResult> {
  const first = await runner.sample();
  const jobs = first.jobs.filter((j) => j.index < n).sort((a, b) => a.index - b.index);
  if (jobs.length !== n || jobs.some((j) => !j.pid)) throw new Error(`${runner.mode}: not every job runs`);
  const pids = jobs.map((j) => j.pid!);
  const ticks = (list: number[]) => list.reduce((sum, pid) => sum + (cpuTicks(pid) ?? 0), 0);
  const ownCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const began = performance.now();
  const start = { ffmpeg: ticks(pids), input: ticks(inputPids), machine: readMachineTicks(), own: ownCpu() };
  const samples: RunnerSample[] = [first];
  for (;;) {
    const left = seconds * 1000 - (performance.now() - began);
    if (left <= 0) break;
    await sleep(Math.min(SUB_WINDOW_MS, left));
    samples.push(await runner.sample());
  }
  const wallS = (performance.now() - began) / 1000;
  const gone = pids.filter((pid) => cpuTicks(pid) === undefined);
  const ffmpegCpuS = (ticks(pids) - start.ffmpeg) / CLK_TCK;
  const inputCpuS = (ticks(inputPids) - start.input) / CLK_TCK;
  const machine = readMachineTicks();
  const ownS = ownCpu() - start.own;
  const last = samples[samples.length - 1]!;
  const runnerCpuS = (last.cpuUs - first.cpuUs) / 1e6;

  const problems: string[] = [];
  if (gone.length > 0) problems.push(`ffmpeg ${gone.join(', ')} gone`);
  const speeds: number[] = [];
  let minSubSpeed = Infinity;
  let fps = 0;
  for (const job of jobs) {
    const series = samples.map((s) => s.jobs.find((j) => j.index === job.index));
    const end = series[series.length - 1];
    if (!end || series.some((j) => !j || j.pid !== job.pid || j.restarts !== job.restarts)) {
      problems.push(`job ${job.index} restarted (${end?.lastLine ?? 'no output'})`);
      speeds.push(0);
      minSubSpeed = 0;
      continue;
    }
    speeds.push(speedBetween(job, end));
    if (job.at !== null && end.at !== null && end.at > job.at)
      fps += ((end.frame ?? 0) - (job.frame ?? 0)) / ((end.at - job.at) / 1000);
    for (let i = 1; i < series.length; i++) {
      if (series[i]!.at !== series[i - 1]!.at)
        minSubSpeed = Math.min(minSubSpeed, speedBetween(series[i - 1]!, series[i]!));
    }
  }
  const minSpeed = Math.min(...speeds);
  const slow = speeds.filter((s) => s < REALTIME_SPEED).length;
  if (slow > 0) problems.push(`${slow} job(s) below speed ${REALTIME_SPEED} (lowest ${minSpeed.toFixed(3)})`);

  const cores = availableParallelism();
  let machinePct = 0;
  let foreignPct = 0;
  if (start.machine && machine && machine.total > start.machine.total) {
    const busy = 1 - (machine.idle - start.machine.idle) / (machine.total - start.machine.total);
    machinePct = 100 * busy;
    const ours = ffmpegCpuS + runnerCpuS + inputCpuS + ownS;
    foreignPct = Math.max(0, 100 * (busy * cores - ours / wallS));
  }
  return {
    jobs: n,
    wallS,
    fps,
    ffmpegCpuS,
    runnerCpuS,
    inputCpuS,
    speeds: speeds.map(round3),
    minSpeed,
    minSubSpeed: Number.isFinite(minSubSpeed) ? minSubSpeed : 0,
    machinePct,
    foreignPct,
    held: problems.length === 0,
    ...(problems.length > 0 && { why: problems.join('; ') }),
  };
}

/** One side's figures over its windows (averages per window); `cpuS` counts the runner's CPU only for the pool. */
export function sideFigures(windows: WindowResult[], countRunner: boolean) {
  const sum = (f: (w: WindowResult) => number) => windows.reduce((s, w) => s + f(w), 0);
  const counted = (w: WindowResult) => w.ffmpegCpuS + (countRunner ? w.runnerCpuS : 0);
  // Frames over each window's CPU window: the output rate (timed by the -progress blocks) times its wall time.
  const perFrame = windows.map((w) => counted(w) / (w.fps * w.wallS));
  const frames = sum((w) => w.fps * w.wallS);
  const wallS = sum((w) => w.wallS);
  const why = windows.map((w) => w.why).filter(Boolean);
  const mean = perFrame.reduce((a, b) => a + b, 0) / perFrame.length;
  return {
    /** CPU seconds counted per output frame over all windows, unrounded (for the ratio). */
    perFrame: sum(counted) / frames,
    /** (max - min) / mean of the windows' CPU per frame: how much the same side varies between rounds. */
    spread: perFrame.length > 1 ? (Math.max(...perFrame) - Math.min(...perFrame)) / mean : 0,
    ffmpegCpuS: sum((w) => w.ffmpegCpuS),
    runnerCpuS: sum((w) => w.runnerCpuS),
    figure: {
      fps: round1(sum((w) => w.fps) / windows.length),
      cpuS: round3(sum(counted) / windows.length),
      ffmpegCpuS: round3(sum((w) => w.ffmpegCpuS) / windows.length),
      /** The runner's CPU in % of one core: the pool's Node process, or the bare spawner (not counted). */
      [countRunner ? 'nodePct' : 'spawnerPct']: round3((100 * sum((w) => w.runnerCpuS)) / wallS),
      cpuMsPerFrame: round3((1000 * sum(counted)) / frames),
      cpuMsPerFrameByRound: perFrame.map((x) => round3(1000 * x)),
      minSpeed: round3(Math.min(...windows.map((w) => w.minSpeed))),
      minSpeed5s: round3(Math.min(...windows.map((w) => w.minSubSpeed))),
      foreignPct: windows.map((w) => round1(w.foreignPct)),
      held: windows.every((w) => w.held),
      ...(why.length > 0 && { why }),
    },
  };
}
