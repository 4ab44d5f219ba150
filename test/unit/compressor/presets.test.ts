import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetSchema, type EncodePreset } from '../../../app/config/compressor.js';
import { validateConfig } from '../../../app/config/load.js';
import { chooseEncoder, presetForCamera } from '../../../app/compressor/presets.js';
import type { EncoderReport } from '../../../app/ffmpeg/encoders.js';

function encode(input: Record<string, unknown>): EncodePreset {
  const p = presetSchema.parse(input);
  assert.ok(p.codec !== 'copy');
  return p;
}

const PREFER = encode({ height: 480, fps: 15, bitrateKbps: 600, hardware: 'prefer' });
const REPORT: EncoderReport = {
  software: ['libx264', 'libx265'],
  hardware: [
    { name: 'h264_vaapi', codec: 'h264', usable: true },
    { name: 'h264_nvenc', codec: 'h264', usable: true },
    { name: 'hevc_nvenc', codec: 'hevc', usable: false, reason: 'exited with code 1: Cannot load libcuda.so.1' },
    { name: 'h264_videotoolbox', codec: 'h264', usable: true },
  ],
};

test('a camera gets its own preset, else the default one', () => {
  const c = validateConfig({
    compressor: { defaultPreset: '720p-standard', cameraPresets: { lobby: 'copy' } },
  }).compressor;
  assert.deepEqual(presetForCamera(c, 'lobby'), { name: 'copy', preset: c.presets.copy, from: 'camera' });
  assert.deepEqual(presetForCamera(c, 'gate-1'), {
    name: '720p-standard',
    preset: c.presets['720p-standard'],
    from: 'default',
  });
  // Inherited object keys are not camera ids.
  assert.equal(presetForCamera(c, 'constructor').name, '720p-standard');
  assert.throws(() => presetForCamera({ ...c, defaultPreset: 'gone' }, 'gate-1'), /preset gone .* does not exist/);
});

test('software unless the preset prefers hardware', () => {
  assert.deepEqual(chooseEncoder(encode({ height: 480, fps: 15, bitrateKbps: 600 }), REPORT), {
    encoder: 'libx264',
    hardware: false,
  });
  assert.deepEqual(chooseEncoder(encode({ codec: 'hevc', height: 480, fps: 15, crf: 28 }), REPORT), {
    encoder: 'libx265',
    hardware: false,
  });
});

test('preferring hardware: the first usable family of the codec (nvenc, qsv, vaapi, videotoolbox, amf)', () => {
  assert.deepEqual(chooseEncoder(PREFER, REPORT), { encoder: 'h264_nvenc', hardware: true });
  const cq = encode({ height: 480, fps: 15, crf: 23, hardware: 'prefer' });
  const onlyVt: EncoderReport = { software: ['libx264'], hardware: [REPORT.hardware[3]!] };
  assert.deepEqual(chooseEncoder(PREFER, onlyVt), { encoder: 'h264_videotoolbox', hardware: true });
  assert.deepEqual(chooseEncoder(cq, onlyVt), {
    encoder: 'libx264',
    hardware: false,
    note: 'no usable hardware h264 encoder; using libx264',
  });
});

test('falls back to software and says why', () => {
  const hevc = encode({ codec: 'hevc', height: 480, fps: 15, bitrateKbps: 600, hardware: 'prefer' });
  assert.deepEqual(chooseEncoder(hevc, REPORT), {
    encoder: 'libx265',
    hardware: false,
    note: 'no usable hardware hevc encoder; using libx265',
  });
  assert.deepEqual(chooseEncoder(PREFER, undefined), {
    encoder: 'libx264',
    hardware: false,
    note: 'hardware encoders not probed; using libx264',
  });
  // A job whose hardware encode failed is planned again without that encoder: the next one, then software.
  assert.deepEqual(chooseEncoder(PREFER, REPORT, new Set(['h264_nvenc'])), { encoder: 'h264_vaapi', hardware: true });
  assert.deepEqual(chooseEncoder(PREFER, REPORT, new Set(['h264_nvenc', 'h264_vaapi', 'h264_videotoolbox'])), {
    encoder: 'libx264',
    hardware: false,
    note: 'hardware h264_nvenc, h264_vaapi, h264_videotoolbox failed; using libx264',
  });
});
