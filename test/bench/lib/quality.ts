/**
 * The compressor bench's source and quality figures: a 720p camera clip made once by ffmpeg (kept in the temp dir),
 * and SSIM plus bitrate of a preset's encode of it, file to file with exactly a job's encode options (encodeArgs).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeArgs } from '../../../app/compressor/ffmpeg-args.js';
import type { EncodePreset } from '../../../app/config/compressor.js';
import { FFMPEG, type Clip } from './publisher.js';

const FFPROBE = process.env.FFPROBE ?? 'ffprobe';

function run(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw new Error(`${what}: cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what}: ${command} exited with ${result.status}: ${result.stderr}`);
  return `${result.stdout}\n${result.stderr}`;
}

/** Bits per second of the first video stream of `file` (sum of its packets over `seconds`). */
export function videoKbps(file: string, seconds: number): number {
  const out = spawnSync(
    FFPROBE,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size', '-of', 'csv=p=0', file],
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  );
  if (out.status !== 0) throw new Error(`ffprobe ${file}: ${out.stderr}`);
  const bytes = out.stdout.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0);
  return (bytes * 8) / 1000 / seconds;
}

/**
 * A 1280x720 25 fps camera stand-in: `testsrc2` (moving gradients, a counter, a rotating sweep, fine text) with
 * temporal noise `noise=alls=6:allf=t` (a sensor in ordinary light), H.264 main, GOP 1 s, no B-frames, 4 Mbit/s,
 * plus an AAC tone (the jobs copy audio). Kept in the temp dir under a name made of the arguments and the ffmpeg
 * build, like lib/publisher.ts's clip.
 */
export function encodeCameraClip(seconds = 15): Clip {
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000'],
    ...['-vf', 'noise=alls=6:allf=t', '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-bf', '0'],
    ...['-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-b:v', '4M', '-maxrate', '4M', '-bufsize', '4M'],
    ...['-c:a', 'aac', '-b:a', '64k', '-t', String(seconds), '-f', 'flv'],
  ];
  const version = run(FFMPEG, ['-version'], 'ffmpeg -version');
  const key = createHash('sha256').update(JSON.stringify(args)).update(version).digest('hex').slice(0, 16);
  const path = join(tmpdir(), `cupola-bench-camera-${key}.flv`);
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.part`;
    try {
      run(FFMPEG, [...args, partial], 'encoding the camera clip');
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
    renameSync(partial, path);
  }
  const kbps = videoKbps(path, seconds);
  return {
    path,
    seconds,
    mbitPerSecond: kbps / 1000,
    description: 'testsrc2 1280x720 25 fps + noise=alls=6:allf=t, H.264 main GOP 1 s no B-frames -b:v 4M, AAC 64k',
  };
}

/** Quality of one preset's encode of the clip. */
export interface Quality {
  /** SSIM (All) of the output against the source brought to the same rate and size by the preset's own filters. */
  ssim: number;
  /** Video bitrate of the output and of the source, kbit/s; ratio = output / source. */
  kbps: number;
  sourceKbps: number;
  bitrateRatio: number;
}

/**
 * Encodes `clip` with the preset's encode options (libx264) to a temp MP4, then compares it with the source run
 * through the same `-vf` chain: `[0:v]<fps,scale…>[ref];[1:v]…[out];[out][ref]ssim`.
 */
export function presetQuality(clip: Clip, preset: EncodePreset): Quality {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-bench-ssim-'));
  try {
    const { global, options } = encodeArgs(preset, 'libx264');
    const out = join(dir, 'out.mp4');
    const base = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
    run(FFMPEG, [...base, ...global, '-i', clip.path, ...options, '-f', 'mp4', out], 'encoding with the preset');
    const vf = options[options.indexOf('-vf') + 1]!;
    const graph = [
      `[0:v]${vf},setpts=PTS-STARTPTS[ref]`,
      `[1:v]format=yuv420p,setpts=PTS-STARTPTS[out]`,
      '[out][ref]ssim',
    ].join(';');
    const log = run(
      FFMPEG,
      ['-hide_banner', '-nostdin', '-loglevel', 'info', '-i', clip.path, '-i', out, '-lavfi', graph, '-f', 'null', '-'],
      'computing SSIM',
    );
    const ssim = Number(/SSIM .*All:([\d.]+)/.exec(log)?.[1]);
    if (!Number.isFinite(ssim)) throw new Error(`no SSIM in the ffmpeg output:\n${log.slice(-2000)}`);
    const kbps = videoKbps(out, clip.seconds);
    const sourceKbps = clip.mbitPerSecond * 1000;
    return { ssim, kbps, sourceKbps, bitrateRatio: kbps / sourceKbps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
