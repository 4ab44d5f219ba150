/**
 * The built-in presets with real ffmpeg and no network: a synthetic 1280x720 25 fps H.264 camera clip (~4 Mbit/s,
 * 12 s, testsrc2 + sine) is encoded file to file with exactly the encode options a job uses (encodeArgs), and
 * ffprobe checks size, frame rate, keyframe spacing and bitrate against the preset.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { encodeArgs } from '../../../app/compressor/ffmpeg-args.js';
import type { EncodePreset } from '../../../app/config/compressor.js';
import { validateConfig } from '../../../app/config/load.js';
import { resolveFfmpeg, resolveFfprobe } from '../../../app/ffmpeg/resolve.js';

const run = promisify(execFile);
const FFMPEG = resolveFfmpeg().path;
const FFPROBE = resolveFfprobe({ ffmpegPath: FFMPEG }).path;
const PRESETS = validateConfig({}).compressor.presets;
let dir = '';

async function ffmpeg(args: string[]): Promise<void> {
  await run(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { timeout: 240_000 });
}

async function probe(file: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-of', 'json', ...args, file], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

interface Stream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  bit_rate?: string;
}

/** A synthetic camera recording: what a slave's F1 carries from a typical 720p camera. */
async function camera(file: string, size: string, seconds: number): Promise<void> {
  await ffmpeg([
    ...[
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${size}:rate=25`,
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
    ],
    ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '50'],
    ...['-b:v', '4M', '-maxrate', '4M', '-bufsize', '8M', '-c:a', 'aac', '-b:a', '64k', file],
  ]);
}

/** Encodes `source` the way a job would, with the preset's own options between input and output. */
async function encodeLikeAJob(preset: EncodePreset, source: string, out: string): Promise<void> {
  const { global, options } = encodeArgs(preset, 'libx264');
  await ffmpeg([...global, '-i', source, ...options, '-f', 'mp4', out]);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cupola-presets-'));
  await camera(join(dir, 'camera.mp4'), '1280x720', 12);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the synthetic camera is what the presets are sized for: 1280x720 H.264 at about 4 Mbit/s', async () => {
  const { streams } = (await probe(join(dir, 'camera.mp4'), ['-show_streams'])) as { streams: Stream[] };
  const video = streams.find((s) => s.codec_type === 'video')!;
  assert.deepEqual([video.codec_name, video.width, video.height], ['h264', 1280, 720]);
  const kbps = Number(video.bit_rate) / 1000;
  assert.ok(kbps > 3000 && kbps < 5000, `source ${kbps} kbit/s`);
});

for (const [name, width, height] of [
  ['480p-economy', 854, 480],
  ['720p-standard', 1280, 720],
] as const) {
  test(`${name}: ${width}x${height} H.264 at the preset's fps, keyframes every GOP, bitrate within ±20 %`, async (t) => {
    const preset = PRESETS[name];
    assert.ok(preset && preset.codec !== 'copy' && preset.bitrateKbps !== undefined);
    const out = join(dir, `${name}.mp4`);
    await encodeLikeAJob(preset, join(dir, 'camera.mp4'), out);

    const { streams } = (await probe(out, ['-show_streams'])) as { streams: Stream[] };
    const video = streams.find((s) => s.codec_type === 'video')!;
    assert.deepEqual([video.codec_name, video.width, video.height], ['h264', width, height]);
    assert.equal(video.avg_frame_rate, `${preset.fps}/1`);
    assert.equal(streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', 'audio copied');

    const { frames } = (await probe(out, ['-select_streams', 'v:0', '-show_entries', 'frame=key_frame,pts_time'])) as {
      frames: Array<{ key_frame: number; pts_time: string }>;
    };
    const keys = frames.flatMap((f, i) => (f.key_frame === 1 ? [i] : []));
    const gop = preset.fps * preset.gopSeconds;
    const spacing = keys.slice(1).map((k, i) => k - keys[i]!);
    assert.equal(keys[0], 0);
    assert.deepEqual(spacing, Array<number>(spacing.length).fill(gop), `key frames at ${keys.join(', ')}`);
    assert.equal(keys.length, Math.ceil(frames.length / gop));
    const keyTimes = keys.map((k) => Number(frames[k]!.pts_time) - Number(frames[0]!.pts_time));
    for (const [i, at] of keyTimes.entries()) assert.ok(Math.abs(at - i * preset.gopSeconds) < 0.01, `key at ${at} s`);

    const kbps = Number(video.bit_rate) / 1000;
    const ratio = kbps / preset.bitrateKbps;
    t.diagnostic(
      `${name}: ${kbps.toFixed(0)} kbit/s (target ${preset.bitrateKbps}, ratio ${ratio.toFixed(3)}), ` +
        `${frames.length} frames, key frames every ${gop} frames (${keys.length})`,
    );
    assert.ok(ratio > 0.8 && ratio < 1.2, `${kbps} kbit/s is not within 20 % of ${preset.bitrateKbps}`);
  });
}

test('a preset never upscales: a 640x360 camera under 720p-standard stays 640x360', async () => {
  const preset = PRESETS['720p-standard'];
  assert.ok(preset && preset.codec !== 'copy');
  const small = join(dir, 'small.mp4');
  await camera(small, '640x360', 2);
  await encodeLikeAJob(preset, small, join(dir, 'small-out.mp4'));
  const { streams } = (await probe(join(dir, 'small-out.mp4'), ['-show_streams'])) as { streams: Stream[] };
  const video = streams.find((s) => s.codec_type === 'video')!;
  assert.deepEqual([video.width, video.height], [640, 360]);
});
