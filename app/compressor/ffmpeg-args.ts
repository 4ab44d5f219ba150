/**
 * The ffmpeg argv of a compressor job: F1 over RTSP/TCP in, the preset's encode, F2 published over RTSP/TCP out.
 * The encode part is built on its own (encodeArgs) so that a file-to-file test runs exactly a job's options.
 */
import type { CopyPreset, EncodePreset, Preset } from '../config/compressor.js';
import { hwFamily, hwInitArgs, hwUploadFilter, type HwFamily } from '../ffmpeg/encoders.js';

/** A preset's encode options: `global` goes before the input (hardware device set-up), `options` after it. */
export interface EncodeArgs {
  global: string[];
  options: string[];
}

/** One job. The URLs carry their credentials (see withCredentials). */
export interface JobArgsInput {
  preset: Preset;
  /** libx264, libx265 or a hardware encoder from the probe; ignored by copy presets. */
  encoder: string;
  f1Url: string;
  f2Url: string;
  /** RTSP socket timeout of the input; default 10 s. */
  inputTimeoutMs?: number;
}

const kbit = (n: number) => `${n}k`;

/**
 * Reads F1: interleaved over TCP (no UDP ports to open, no loss), giving up when the slave goes quiet. The SDP of F1
 * already carries the codec parameters, so one second of probing is plenty: ffmpeg's default five would add seconds
 * to every (re)start of a job, and F2 readers wait for it.
 */
export function inputArgs(f1Url: string, timeoutMs = 10_000): string[] {
  const probe = ['-analyzeduration', '1000000'];
  return [...probe, '-rtsp_transport', 'tcp', '-timeout', String(timeoutMs * 1000), '-i', f1Url];
}

/** Publishes F2 to the slave (ANNOUNCE/RECORD) over TCP. */
export function outputArgs(f2Url: string): string[] {
  return ['-f', 'rtsp', '-rtsp_transport', 'tcp', f2Url];
}

function audioArgs(audio: EncodePreset['audio'], bitrateKbps: number): string[] {
  if (audio === 'drop') return ['-an'];
  if (audio === 'aac') return ['-c:a', 'aac', '-b:a', kbit(bitrateKbps)];
  return ['-c:a', 'copy'];
}

function maps(audio: EncodePreset['audio']): string[] {
  // `?`: a camera without audio is fine. Only the first streams: F2 carries one picture and at most one sound.
  return audio === 'drop' ? ['-map', '0:v:0'] : ['-map', '0:v:0', '-map', '0:a:0?'];
}

function copyArgs(preset: CopyPreset): string[] {
  return [...maps(preset.audio), '-c:v', 'copy', ...(preset.audio === 'drop' ? ['-an'] : ['-c:a', 'copy'])];
}

/** Bitrate and VBV options shared by every encoder that takes ffmpeg's generic ones. */
function rateArgs(p: EncodePreset): string[] {
  const out = p.bitrateKbps !== undefined ? ['-b:v', kbit(p.bitrateKbps)] : [];
  if (p.maxrateKbps !== undefined) out.push('-maxrate', kbit(p.maxrateKbps), '-bufsize', kbit(p.bufsizeKbps!));
  return out;
}

function softwareArgs(p: EncodePreset, encoder: string, gop: number): string[] {
  const out = ['-c:v', encoder, '-preset', p.speed, ...(p.tune ? ['-tune', p.tune] : [])];
  out.push(...(p.crf !== undefined ? ['-crf', String(p.crf)] : []), ...rateArgs(p));
  // keyint_min = GOP and no scene-cut keyframes: a keyframe every gopSeconds exactly, so that the master's HLS
  // segments and a reader joining F2 always find one on time.
  out.push('-g', String(gop), '-keyint_min', String(gop), '-bf', String(p.bframes));
  if (encoder === 'libx265') {
    // x265 defaults to open GOPs (CRA pictures, no clean join point) and logs at info level on stderr.
    out.push('-forced-idr', '1', '-x265-params', 'scenecut=0:open-gop=0:log-level=error');
  } else out.push('-sc_threshold', '0');
  return out;
}

function hardwareArgs(p: EncodePreset, encoder: string, family: HwFamily, gop: number): string[] {
  const q = p.crf === undefined ? undefined : String(Math.round(p.crf));
  const common = ['-g', String(gop), '-bf', String(p.bframes)];
  switch (family) {
    case 'nvenc':
      return [
        ...['-c:v', encoder, '-preset', 'p4', '-tune', 'll', '-rc', 'vbr'],
        ...(q ? ['-cq', q, '-b:v', '0'] : []),
        ...rateArgs(p),
        ...['-no-scenecut', '1', '-forced-idr', '1', ...common],
      ];
    case 'qsv':
      return ['-c:v', encoder, '-preset', 'veryfast', ...(q ? ['-global_quality', q] : []), ...rateArgs(p)].concat(
        ['-forced_idr', '1'],
        common,
      );
    case 'vaapi':
      return ['-c:v', encoder, '-rc_mode', q ? 'CQP' : 'VBR', ...(q ? ['-qp', q] : []), ...rateArgs(p), ...common];
    case 'videotoolbox':
      return ['-c:v', encoder, '-realtime', '1', ...rateArgs(p), ...common];
    case 'amf':
      return [
        ...['-c:v', encoder, '-usage', 'lowlatency', '-quality', 'balanced'],
        ...(q ? ['-rc', 'cqp', '-qp_i', q, '-qp_p', q] : ['-rc', 'vbr_peak']),
        ...rateArgs(p),
        ...common,
      ];
  }
}

/**
 * The encode options of a preset with `encoder`: stream selection, the filter chain (fps first, so that frames
 * about to be dropped are not scaled), the codec with its rate control and aligned keyframes, and the audio.
 */
export function encodeArgs(preset: Preset, encoder: string): EncodeArgs {
  if (preset.codec === 'copy') return { global: [], options: copyArgs(preset) };
  const family = hwFamily(encoder);
  const gop = Math.round(preset.fps * preset.gopSeconds);
  // Never upscale: a 480p camera under a 720p preset keeps 480 lines. Height stays even for 4:2:0.
  const height = `'min(${preset.height},trunc(ih/2)*2)'`;
  const vf = `fps=${preset.fps},scale=w=-2:h=${height},${hwUploadFilter(family)}`;
  const codec = family ? hardwareArgs(preset, encoder, family, gop) : softwareArgs(preset, encoder, gop);
  // -force_key_frames is the alignment every encoder honours; -g alone drifts after a dropped frame.
  const keys = ['-force_key_frames', `expr:gte(t,n_forced*${preset.gopSeconds})`];
  const options = [...maps(preset.audio), '-vf', vf, ...codec, ...keys];
  options.push(...audioArgs(preset.audio, preset.audioBitrateKbps));
  return { global: hwInitArgs(family), options };
}

/**
 * The whole argv (without the binary) of a job. `-progress pipe:1 -nostats` is not in it: the Supervisor puts it
 * in front for a ChildSpec with `progress: true`. No `-nostdin` either: the Supervisor stops ffmpeg with `q`.
 */
export function jobArgs(job: JobArgsInput): string[] {
  const { global, options } = encodeArgs(job.preset, job.encoder);
  return [
    ...['-hide_banner', '-loglevel', 'warning'],
    ...global,
    ...inputArgs(job.f1Url, job.inputTimeoutMs),
    ...options,
    ...outputArgs(job.f2Url),
  ];
}

/** `url` with `user:password@` in it (percent-encoded as needed), replacing any credentials it had. */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

/**
 * The argv with the user and password of every URL taken out: two argvs equal by this differ at most in their
 * credentials (the pool applies such a change at the next start instead of restarting the job).
 */
export function withoutCredentials(argv: readonly string[]): string[] {
  return argv.map((a) => a.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/i, '$1'));
}
