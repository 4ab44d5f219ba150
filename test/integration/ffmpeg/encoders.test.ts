/**
 * The hardware-encoder probe against this machine's ffmpeg. CI has no GPU: every hardware encoder the build lists
 * must come back unusable with the reason its trial encode gave, and libx264 usable.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { parseEncoderList, probeEncoders, VAAPI_DEVICE } from '../../../app/ffmpeg/encoders.js';
import { resolveFfmpeg } from '../../../app/ffmpeg/resolve.js';
import { runOneShot } from '../../../app/supervisor/probe.js';

const FFMPEG = resolveFfmpeg().path;
const HAS_GPU = existsSync(VAAPI_DEVICE) || existsSync('/dev/nvidia0') || existsSync('/dev/dxg');

test('this machine: every listed hardware encoder is tried and reported with its reason; libx264 works', async (t) => {
  const listing = await runOneShot(FFMPEG, ['-hide_banner', '-encoders']);
  assert.ok(listing.ok);
  const listedHw = parseEncoderList(listing.stdout).filter((n) =>
    /^(h264|hevc)_(nvenc|qsv|vaapi|videotoolbox|amf)$/.test(n),
  );

  const started = Date.now();
  const report = await probeEncoders({ ffmpegPath: FFMPEG });
  const ms = Date.now() - started;
  t.diagnostic(`probe took ${ms} ms: ${JSON.stringify(report)}`);

  assert.ok(report.software.includes('libx264'), 'libx264 is usable');
  assert.deepEqual(
    report.hardware.map((h) => h.name),
    listedHw,
  );
  for (const h of report.hardware) {
    assert.equal(h.codec, h.name.startsWith('hevc') ? 'hevc' : 'h264');
    if (!h.usable) assert.ok(h.reason && h.reason.length > 10 && !/0x[0-9a-f]{6,}/.test(h.reason), h.reason);
  }
  if (!HAS_GPU) {
    assert.ok(
      report.hardware.every((h) => !h.usable),
      'no GPU here: nothing may claim to be usable',
    );
    for (const h of report.hardware.filter((x) => x.name.endsWith('_nvenc')))
      assert.match(h.reason!, /libcuda|CUDA|nvenc|No such device|Cannot load/i);
  }
});

test('a trial that hangs is cut at its timeout and reported as such', async () => {
  const report = await probeEncoders({
    ffmpegPath: FFMPEG,
    // The real listing, then a trial that cannot finish in time (a live-rate 1 h source).
    run: async (command, args, timeoutMs) =>
      args.includes('-encoders')
        ? { ok: true, stdout: ' ------\n V....D h264_nvenc  NVIDIA NVENC H.264 encoder (codec h264)\n' }
        : runOneShot(
            command,
            ['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2', '-t', '3600', '-f', 'null', '-'],
            {
              timeoutMs,
            },
          ),
    trialTimeoutMs: 1500,
  });
  assert.deepEqual(report.hardware, [
    { name: 'h264_nvenc', codec: 'h264', usable: false, reason: 'timed out after 1500 ms' },
  ]);
});

test('an ffmpeg that does not exist gives an empty report', async () => {
  assert.deepEqual(await probeEncoders({ ffmpegPath: '/nonexistent/ffmpeg' }), { software: [], hardware: [] });
  assert.deepEqual(await runOneShot('/nonexistent/ffmpeg', ['-version']), { ok: false, error: 'ENOENT: no such file' });
});
