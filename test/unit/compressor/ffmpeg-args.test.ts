import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILT_IN_PRESETS, presetSchema, type EncodePreset } from '../../../app/config/compressor.js';
import { encodeArgs, inputArgs, jobArgs, outputArgs, withCredentials } from '../../../app/compressor/ffmpeg-args.js';
import { redactArgs } from '../../../app/supervisor/launch.js';

const F1 = 'rtsp://0123456789ab:cpt_0123456789ab_s3cr3tTOKENs3cr3tTOKEN@10.0.0.5:8554/gate-1';
const F2 = 'rtsp://0123456789ab:cpt_0123456789ab_s3cr3tTOKENs3cr3tTOKEN@10.0.0.5:8555/gate-1';
const HEAD = ['-hide_banner', '-loglevel', 'warning'];
const IN = ['-analyzeduration', '1000000', '-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', F1];
const OUT = ['-f', 'rtsp', '-rtsp_transport', 'tcp', F2];
const MAPS = ['-map', '0:v:0', '-map', '0:a:0?'];

function encode(input: Record<string, unknown>): EncodePreset {
  const p = presetSchema.parse(input);
  assert.ok(p.codec !== 'copy');
  return p;
}

test('480p-economy: the exact job argv', () => {
  const args = jobArgs({ preset: BUILT_IN_PRESETS['480p-economy']!, encoder: 'libx264', f1Url: F1, f2Url: F2 });
  assert.deepEqual(args, [
    ...HEAD,
    ...IN,
    ...MAPS,
    ...['-vf', "fps=15,scale=w=-2:h='min(480,trunc(ih/2)*2)',format=yuv420p"],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '600k', '-maxrate', '900k', '-bufsize', '1200k'],
    ...['-g', '30', '-keyint_min', '30', '-bf', '0', '-sc_threshold', '0'],
    ...['-force_key_frames', 'expr:gte(t,n_forced*2)', '-c:a', 'copy'],
    ...OUT,
  ]);
});

test('720p-standard: the exact job argv', () => {
  const args = jobArgs({ preset: BUILT_IN_PRESETS['720p-standard']!, encoder: 'libx264', f1Url: F1, f2Url: F2 });
  assert.deepEqual(args, [
    ...HEAD,
    ...IN,
    ...MAPS,
    ...['-vf', "fps=25,scale=w=-2:h='min(720,trunc(ih/2)*2)',format=yuv420p"],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '1200k', '-maxrate', '1800k', '-bufsize', '2400k'],
    ...['-g', '50', '-keyint_min', '50', '-bf', '0', '-sc_threshold', '0'],
    ...['-force_key_frames', 'expr:gte(t,n_forced*2)', '-c:a', 'copy'],
    ...OUT,
  ]);
});

test('copy: the exact job argv, whatever encoder is passed', () => {
  const args = jobArgs({ preset: BUILT_IN_PRESETS.copy!, encoder: 'h264_nvenc', f1Url: F1, f2Url: F2 });
  assert.deepEqual(args, [...HEAD, ...IN, ...MAPS, '-c:v', 'copy', '-c:a', 'copy', ...OUT]);
  const drop = encodeArgs(presetSchema.parse({ codec: 'copy', audio: 'drop' }), 'libx264');
  assert.deepEqual(drop, { global: [], options: ['-map', '0:v:0', '-c:v', 'copy', '-an'] });
});

test('job argv = head, device set-up, input, encode options, output; no -progress, no -nostdin', () => {
  const preset = encode({ height: 480, fps: 15, bitrateKbps: 600, hardware: 'prefer' });
  const enc = encodeArgs(preset, 'h264_vaapi');
  const args = jobArgs({ preset, encoder: 'h264_vaapi', f1Url: F1, f2Url: F2, inputTimeoutMs: 3000 });
  assert.deepEqual(args, [...HEAD, ...enc.global, ...inputArgs(F1, 3000), ...enc.options, ...outputArgs(F2)]);
  assert.deepEqual(enc.global, ['-vaapi_device', '/dev/dri/renderD128']);
  assert.ok(args.includes('3000000'));
  assert.ok(!args.includes('-progress') && !args.includes('-nostdin'), 'the Supervisor adds -progress, and uses stdin');
});

test('crf, tune, b-frames, gop, hevc, aac and drop', () => {
  const crf = encodeArgs(
    encode({ height: 360, fps: 10, crf: 26, tune: 'zerolatency', bframes: 2, gopSeconds: 4 }),
    'libx264',
  );
  assert.deepEqual(crf.options.slice(4), [
    ...['-vf', "fps=10,scale=w=-2:h='min(360,trunc(ih/2)*2)',format=yuv420p"],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-crf', '26'],
    ...['-g', '40', '-keyint_min', '40', '-bf', '2', '-sc_threshold', '0'],
    ...['-force_key_frames', 'expr:gte(t,n_forced*4)', '-c:a', 'copy'],
  ]);
  const hevc = encodeArgs(encode({ codec: 'hevc', height: 720, fps: 25, crf: 28, audio: 'aac' }), 'libx265');
  assert.deepEqual(hevc.options.slice(6), [
    ...['-c:v', 'libx265', '-preset', 'veryfast', '-crf', '28', '-g', '50', '-keyint_min', '50', '-bf', '0'],
    ...['-forced-idr', '1', '-x265-params', 'scenecut=0:open-gop=0:log-level=error'],
    ...['-force_key_frames', 'expr:gte(t,n_forced*2)', '-c:a', 'aac', '-b:a', '64k'],
  ]);
  const drop = encodeArgs(encode({ height: 480, fps: 15, bitrateKbps: 600, audio: 'drop' }), 'libx264');
  assert.deepEqual(drop.options.slice(0, 2), ['-map', '0:v:0']);
  assert.deepEqual(drop.options.slice(-1), ['-an']);
});

test('hardware encoders get their own option names, device set-up and pixel format', () => {
  const vbr = encode({ height: 480, fps: 15, bitrateKbps: 600, maxrateKbps: 900 });
  const cq = encode({ height: 480, fps: 15, crf: 23.4 });
  const codec = (p: EncodePreset, encoder: string) => {
    const { global, options } = encodeArgs(p, encoder);
    const vf = options[options.indexOf('-vf') + 1]!;
    const from = options.indexOf('-c:v');
    return [
      global.join(' '),
      vf.slice(vf.indexOf("',") + 2),
      options.slice(from, options.indexOf('-force_key_frames')).join(' '),
    ];
  };
  const rate = '-b:v 600k -maxrate 900k -bufsize 900k';
  assert.deepEqual(codec(vbr, 'h264_nvenc'), [
    '',
    'format=yuv420p',
    `-c:v h264_nvenc -preset p4 -tune ll -rc vbr ${rate} -no-scenecut 1 -forced-idr 1 -g 30 -bf 0`,
  ]);
  assert.deepEqual(
    codec(cq, 'hevc_nvenc')[2],
    '-c:v hevc_nvenc -preset p4 -tune ll -rc vbr -cq 23 -b:v 0 -no-scenecut 1 -forced-idr 1 -g 30 -bf 0',
  );
  assert.deepEqual(codec(vbr, 'h264_qsv'), [
    '-init_hw_device qsv=hw',
    'format=nv12',
    `-c:v h264_qsv -preset veryfast ${rate} -forced_idr 1 -g 30 -bf 0`,
  ]);
  assert.equal(codec(cq, 'h264_qsv')[2], '-c:v h264_qsv -preset veryfast -global_quality 23 -forced_idr 1 -g 30 -bf 0');
  assert.deepEqual(codec(vbr, 'h264_vaapi'), [
    '-vaapi_device /dev/dri/renderD128',
    'format=nv12,hwupload',
    `-c:v h264_vaapi -rc_mode VBR ${rate} -g 30 -bf 0`,
  ]);
  assert.equal(codec(cq, 'hevc_vaapi')[2], '-c:v hevc_vaapi -rc_mode CQP -qp 23 -g 30 -bf 0');
  assert.equal(codec(vbr, 'h264_videotoolbox')[2], `-c:v h264_videotoolbox -realtime 1 ${rate} -g 30 -bf 0`);
  assert.equal(
    codec(vbr, 'h264_amf')[2],
    `-c:v h264_amf -usage lowlatency -quality balanced -rc vbr_peak ${rate} -g 30 -bf 0`,
  );
  assert.equal(
    codec(cq, 'hevc_amf')[2],
    '-c:v hevc_amf -usage lowlatency -quality balanced -rc cqp -qp_i 23 -qp_p 23 -g 30 -bf 0',
  );
});

test('credentials go into the URL, and never into what is logged', () => {
  const url = withCredentials('rtsp://10.0.0.5:8555/gate-1', '0123456789ab', 'cpt_0123456789ab_s3cr3t');
  assert.equal(url, 'rtsp://0123456789ab:cpt_0123456789ab_s3cr3t@10.0.0.5:8555/gate-1');
  assert.equal(withCredentials('rtsp://old:pw@h/x', 'a b', 'p@ss:word'), 'rtsp://a%20b:p%40ss%3Aword@h/x');
  const args = jobArgs({ preset: BUILT_IN_PRESETS['480p-economy']!, encoder: 'libx264', f1Url: F1, f2Url: F2 });
  const shown = redactArgs([...args, 'rtmp://h/live/cam?key=abc&x=1']);
  assert.ok(!shown.join(' ').includes('s3cr3t'), shown.join(' '));
  assert.ok(shown.includes('rtsp://0123456789ab:***@10.0.0.5:8554/gate-1'));
  assert.ok(shown.includes('rtsp://0123456789ab:***@10.0.0.5:8555/gate-1'));
  assert.equal(shown.at(-1), 'rtmp://h/live/***?key=***&x=1');
  assert.deepEqual(args.slice(0, 3), shown.slice(0, 3), 'everything else is left as it was');
});
