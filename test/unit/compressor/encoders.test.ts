import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEncoderList, probeEncoders, trialArgs, type OneShotRunner } from '../../../app/ffmpeg/encoders.js';
import type { ProbeResult } from '../../../app/supervisor/probe.js';

// Abridged from `ffmpeg -hide_banner -encoders` of a build with every family (Debian 5.1 lists nvenc, qsv, vaapi).
const LISTING = `Encoders:
 V..... = Video
 A..... = Audio
 ------
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V....D libx264rgb           libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 RGB (codec h264)
 V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)
 V..... h264_omx             OpenMAX IL H.264 video encoder (codec h264)
 V..... h264_qsv             H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (Intel Quick Sync Video acceleration) (codec h264)
 V..... h264_v4l2m2m         V4L2 mem2mem H.264 encoder wrapper (codec h264)
 V....D h264_vaapi           H.264/AVC (VAAPI) (codec h264)
 V..... h264_videotoolbox    VideoToolbox H.264 Encoder (codec h264)
 V..... h264_amf             AMD AMF H.264 Encoder (codec h264)
 V....D libx265              libx265 H.265 / HEVC (codec hevc)
 V....D hevc_nvenc           NVIDIA NVENC hevc encoder (codec hevc)
 V....D hevc_vaapi           H.265/HEVC (VAAPI) (codec hevc)
 V....D mjpeg_vaapi          MJPEG (VAAPI) (codec mjpeg)
 A....D aac                  AAC (Advanced Audio Coding)
`;

interface Call {
  args: readonly string[];
  timeoutMs: number;
}

/** A runner that answers `-encoders` with `listing` and each trial with `outcome(encoder)`. */
function fakeRunner(listing: ProbeResult, outcome: (encoder: string) => ProbeResult, calls: Call[] = []) {
  let running = 0;
  let peak = 0;
  const run: OneShotRunner = async (_command, args, timeoutMs) => {
    calls.push({ args, timeoutMs });
    if (args.includes('-encoders')) return listing;
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, 5));
    running--;
    return outcome(args[args.indexOf('-c:v') + 1]!);
  };
  return { run, peak: () => peak };
}

test('parses the video encoders of the listing, not the legend', () => {
  const names = parseEncoderList(LISTING);
  assert.equal(names[0], 'libx264');
  assert.ok(names.includes('hevc_vaapi') && names.includes('mjpeg_vaapi'));
  assert.ok(!names.includes('aac') && !names.includes('='));
  assert.deepEqual(parseEncoderList('garbage\n'), []);
});

test('trial encodes: 1 s of testsrc2 at 320x240 to nowhere, with the job device set-up', () => {
  const tail = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1'];
  const head = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  assert.deepEqual(trialArgs('h264_nvenc'), [
    ...head,
    ...tail,
    ...['-vf', 'format=yuv420p', '-c:v', 'h264_nvenc', '-f', 'null', '-'],
  ]);
  assert.deepEqual(trialArgs('hevc_vaapi'), [
    ...head,
    ...['-vaapi_device', '/dev/dri/renderD128'],
    ...tail,
    ...['-vf', 'format=nv12,hwupload', '-c:v', 'hevc_vaapi', '-f', 'null', '-'],
  ]);
  assert.deepEqual(trialArgs('h264_qsv').slice(4, 6), ['-init_hw_device', 'qsv=hw']);
});

test('the positive path: encoders that open are usable', async () => {
  const calls: Call[] = [];
  const fake = fakeRunner({ ok: true, stdout: LISTING }, () => ({ ok: true, stdout: '' }), calls);
  const report = await probeEncoders({ ffmpegPath: '/opt/ffmpeg', run: fake.run });
  assert.deepEqual(report, {
    software: ['libx264', 'libx265'],
    hardware: [
      { name: 'h264_nvenc', codec: 'h264', usable: true },
      { name: 'h264_qsv', codec: 'h264', usable: true },
      { name: 'h264_vaapi', codec: 'h264', usable: true },
      { name: 'h264_videotoolbox', codec: 'h264', usable: true },
      { name: 'h264_amf', codec: 'h264', usable: true },
      { name: 'hevc_nvenc', codec: 'hevc', usable: true },
      { name: 'hevc_vaapi', codec: 'hevc', usable: true },
    ],
  });
  assert.equal(calls.length, 1 + 2 + 7, 'one listing, one trial per H.264/HEVC encoder (omx, v4l2m2m, mjpeg left out)');
  assert.ok(calls.every((c) => c.timeoutMs === 10_000));
  assert.equal(fake.peak(), 2, 'at most two trials at once');
});

test('the fallback path: each encoder that does not open says why (addresses stripped)', async () => {
  const fake = fakeRunner({ ok: true, stdout: LISTING }, (encoder) => {
    if (encoder === 'libx265') return { ok: false, error: 'exited with code 1: Unknown encoder' };
    if (encoder.startsWith('lib') || encoder === 'h264_qsv') return { ok: true, stdout: '' };
    if (encoder.endsWith('nvenc'))
      return { ok: false, error: `exited with code 1: [${encoder} @ 0x5559835a7200] Cannot load libcuda.so.1` };
    return { ok: false, error: 'timed out after 10000 ms' };
  });
  const report = await probeEncoders({ ffmpegPath: 'ffmpeg', run: fake.run, parallel: 3, trialTimeoutMs: 10_000 });
  assert.deepEqual(report.software, ['libx264']);
  assert.deepEqual(report.hardware.slice(0, 3), [
    {
      name: 'h264_nvenc',
      codec: 'h264',
      usable: false,
      reason: 'exited with code 1: [h264_nvenc] Cannot load libcuda.so.1',
    },
    { name: 'h264_qsv', codec: 'h264', usable: true },
    { name: 'h264_vaapi', codec: 'h264', usable: false, reason: 'timed out after 10000 ms' },
  ]);
  assert.equal(fake.peak(), 3);
});

test('hardware off: hardware encoders are listed, not tried', async () => {
  const calls: Call[] = [];
  const fake = fakeRunner({ ok: true, stdout: LISTING }, () => ({ ok: true, stdout: '' }), calls);
  const report = await probeEncoders({ ffmpegPath: 'ffmpeg', run: fake.run, hardware: false });
  assert.equal(calls.length, 3);
  assert.ok(report.hardware.length === 7 && report.hardware.every((h) => !h.usable));
  assert.equal(report.hardware[0]?.reason, 'not tried: hardware encoding is off (compressor.hardware)');
});

test('an ffmpeg that cannot list encoders yields an empty report, not an exception', async () => {
  const fake = fakeRunner({ ok: false, error: 'ENOENT: no such file' }, () => assert.fail('no trial expected'));
  assert.deepEqual(await probeEncoders({ ffmpegPath: '/missing', run: fake.run }), { software: [], hardware: [] });
});
