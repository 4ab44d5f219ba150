/**
 * A job as the transcoding pool keeps it (pool.ts): the record with its state, child and measurements, how a new one
 * starts, its API view, and the small measurement helpers the pool's loop uses. No timers, no spawning.
 */
import type { SupervisedChild } from '../supervisor/types.js';
import type { RunningJob } from './capacity.js';
import { SpeedMeter } from './speed-meter.js';
import type { JobDefinition, JobState, JobView } from '../defs/job.js';

/** Timer samples averaged into a job's CPU cost and the machine's idle cores. */
export const CPU_WINDOW = 5;

/** A job as the pool keeps it: its definition, state, child and measurements. */
export interface Job {
  def: JobDefinition;
  wanted: boolean;
  state: JobState;
  reason: string | null;
  child: SupervisedChild | null;
  /** Which encoder runs: the definition's, or its software fall-back after a hardware failure. */
  useFallback: boolean;
  fallbackReason: string | null;
  admittedAt: number;
  meter: SpeedMeter;
  slowSince: number | null;
  /** CPU cores of the job's ffmpeg, one per timer tick, the newest last (at most CPU_WINDOW). */
  cpuSamples: number[];
  /** Failed starts without a single frame (hardware encoders that cannot open). */
  deadStarts: number;
  lastRestarts: number;
  /** True while its ffmpeg is being stopped: not admitted again until that is done. */
  stopping: boolean;
}

/** A job just wanted: waiting for capacity, nothing measured. */
export function newJob(def: JobDefinition): Job {
  return {
    def,
    wanted: true,
    state: 'waiting-for-capacity',
    reason: null,
    child: null,
    useFallback: false,
    fallbackReason: null,
    admittedAt: 0,
    meter: new SpeedMeter(),
    slowSince: null,
    cpuSamples: [],
    deadStarts: 0,
    lastRestarts: 0,
    stopping: false,
  };
}

/** The job as the API shows it. */
export function jobView(job: Job, now: number): JobView {
  const status = job.child?.status() ?? null;
  return {
    id: job.def.id,
    slave: job.def.slave,
    camera: job.def.camera,
    preset: job.def.preset,
    state: job.state,
    reason: job.reason,
    encoder: job.useFallback && job.def.fallback ? job.def.fallback.encoder : job.def.encoder,
    encoderNote: job.def.encoderNote ?? null,
    fallbackReason: job.fallbackReason,
    input: job.def.input,
    output: job.def.output,
    speed: job.child ? job.meter.speed(now) : null,
    progress: status?.progress ?? null,
    cpuCores: mean(job.cpuSamples),
    pid: status?.pid ?? null,
    restarts: status?.restarts ?? 0,
    lastExit: status?.lastExit ?? null,
    logTail: job.child?.logs().slice(-20) ?? [],
  };
}

const CHILD_PREFIX = 'job:';

/** The Supervisor child name of job `id`. */
export function childName(id: string): string {
  return `${CHILD_PREFIX}${id}`;
}

/** The job id of a Supervisor child name; null for children that are no job. */
export function jobIdOf(child: string): string | null {
  return child.startsWith(CHILD_PREFIX) ? child.slice(CHILD_PREFIX.length) : null;
}

/** Appends a sample (null: none this time) and keeps the last CPU_WINDOW. */
export function pushSample(samples: number[], value: number | null): void {
  if (value === null) return;
  samples.push(value);
  if (samples.length > CPU_WINDOW) samples.shift();
}

/** The mean of the samples; null when there are none. */
export function mean(samples: number[]): number | null {
  return samples.length > 0 ? samples.reduce((a, b) => a + b, 0) / samples.length : null;
}

/** What the capacity policy sees of a job. */
export function runningJob(j: Job, now: number): RunningJob {
  return {
    id: j.def.id,
    admittedAt: j.admittedAt,
    speed: j.meter.speed(now),
    slowSince: j.slowSince,
    cpuCores: mean(j.cpuSamples),
  };
}

/**
 * The most telling output line, for the API and the fall-back reason: the last one about the device or encoder when
 * `encoder` is given (ffmpeg's final "Error while processing" says nothing), else the last that looks like an error.
 */
export function lastError(child: SupervisedChild, encoder?: string): string | null {
  const lines = child.logs();
  const patterns = [/error|fail|cannot|invalid|no such|not found/i];
  if (encoder) patterns.unshift(new RegExp(`${encoder}|device|initiali[sz]|hwupload|driver`, 'i'));
  for (const pattern of patterns) {
    const line = lines.findLast((l) => pattern.test(l));
    if (line) return line.slice(0, 300);
  }
  return null;
}
