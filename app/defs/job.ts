/** Transcoding jobs of a compressor: what the role defines, what the API and the UI show. */
import type { ChildProgress, ChildStatus } from './child.js';

/** Where a job is in its life; see app/compressor/README.md. */
export type JobState = 'waiting-for-capacity' | 'starting' | 'running' | 'degraded' | 'parked' | 'failed';

/** One end of a job, for display (URLs without credentials). */
export interface JobEnd {
  url: string;
  codec: string | null;
  width: number | null;
  height: number | null;
}

/** Everything needed to run a job; built by the compressor role from the camera, its slave and its preset. */
export interface JobDefinition {
  /** `<slave>/<camera>`. */
  id: string;
  slave: string;
  camera: string;
  preset: string;
  /** The encoder the argv uses (e.g. `libx264`, `h264_vaapi`). */
  encoder: string;
  /** Why the encoder is not the one the preset asked for (a hardware-preferring preset running in software). */
  encoderNote?: string;
  /** ffmpeg arguments without `-progress` (the Supervisor adds it). Holds credentials: never logged. */
  args: string[];
  /** For a hardware encoder: the software variant to fall back to when it cannot run. */
  fallback?: { encoder: string; args: string[] };
  input: JobEnd;
  output: JobEnd;
}

/** A job as the API returns it. */
export interface JobView {
  id: string;
  slave: string;
  camera: string;
  preset: string;
  state: JobState;
  /** Why it is in this state (waiting, parked, degraded, failed), when there is something to say. */
  reason: string | null;
  encoder: string;
  /** Why a preset that prefers hardware runs in software from the start (no usable encoder found by the probe). */
  encoderNote: string | null;
  /** Set when a hardware encoder failed and the job runs in software. */
  fallbackReason: string | null;
  input: JobEnd;
  output: JobEnd;
  /** Media seconds per wall second over the last seconds (not ffmpeg's average since start). */
  speed: number | null;
  progress: ChildProgress | null;
  cpuCores: number | null;
  pid: number | null;
  restarts: number;
  lastExit: ChildStatus['lastExit'];
  /** The last lines ffmpeg wrote (credentials masked by the Supervisor). */
  logTail: string[];
}
