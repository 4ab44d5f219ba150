import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILT_IN_PRESETS } from '../../../app/config/compressor.js';
import { ConfigError } from '../../../app/config/errors.js';
import { configFields } from '../../../app/config/fields.js';
import { validateConfig } from '../../../app/config/load.js';
import { redactConfig, REDACTED } from '../../../app/config/redact.js';

const TOKEN = 'cpt_0123456789ab_abcdefghijklmnopqrstuvwxyz012345';

function problems(input: unknown): string[] {
  try {
    validateConfig(input);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems.map((p) => `${p.field}: ${p.message}`);
  }
  assert.fail('expected a ConfigError');
}

const compressor = (c: Record<string, unknown>) => ({ compressor: c });
const preset = (p: Record<string, unknown>) => compressor({ presets: { p } });
const ENCODE = { height: 480, fps: 15, bitrateKbps: 600 };

test('defaults: the built-in presets, 480p-economy for every camera, hardware probed', () => {
  const c = validateConfig({}).compressor;
  assert.deepEqual(Object.keys(c.presets), ['480p-economy', '720p-standard', 'copy']);
  assert.deepEqual(c.presets['480p-economy'], {
    codec: 'h264',
    height: 480,
    fps: 15,
    bitrateKbps: 600,
    maxrateKbps: 900,
    bufsizeKbps: 1200,
    gopSeconds: 2,
    speed: 'veryfast',
    bframes: 0,
    hardware: 'never',
    audio: 'copy',
    audioBitrateKbps: 64,
  });
  assert.deepEqual(c.presets.copy, { codec: 'copy', audio: 'copy' });
  assert.equal(c.presets['720p-standard']?.codec === 'h264' && c.presets['720p-standard'].bitrateKbps, 1200);
  assert.equal(c.defaultPreset, '480p-economy');
  assert.deepEqual([c.slaves, c.cameraPresets, c.maxJobs, c.hardware], [[], {}, 16, 'auto']);
});

test('user presets merge over the built-ins: a same-named one replaces it whole', () => {
  const c = validateConfig(
    compressor({
      presets: { '480p-economy': { height: 360, fps: 10, crf: 28 }, night: { codec: 'hevc', ...ENCODE } },
      cameraPresets: { 'gate-1': 'night', lobby: 'copy' },
    }),
  ).compressor;
  assert.deepEqual(Object.keys(c.presets), ['480p-economy', '720p-standard', 'copy', 'night']);
  const economy = c.presets['480p-economy'];
  assert.ok(economy && economy.codec === 'h264');
  assert.deepEqual(
    [economy.height, economy.crf, economy.bitrateKbps, economy.maxrateKbps],
    [360, 28, undefined, undefined],
  );
  assert.equal(c.presets.night?.codec, 'hevc');
  assert.deepEqual(c.presets['720p-standard'], BUILT_IN_PRESETS['720p-standard']);
});

test('defaults inside a preset: maxrate without bufsize gets a one-second buffer; copy may drop audio', () => {
  const c = validateConfig(
    compressor({ presets: { a: { ...ENCODE, maxrateKbps: 800, audio: 'aac' }, b: { codec: 'copy', audio: 'drop' } } }),
  ).compressor;
  const a = c.presets.a;
  assert.ok(a && a.codec === 'h264');
  assert.deepEqual([a.bufsizeKbps, a.audio, a.audioBitrateKbps, a.gopSeconds], [800, 'aac', 64, 2]);
  assert.deepEqual(c.presets.b, { codec: 'copy', audio: 'drop' });
});

test('each preset rule names the field, the rule and the value', () => {
  const at = 'compressor.presets.p';
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...ENCODE, height: 481 }, `${at}.height: expected an even integer 144-2160, got 481`],
    [{ ...ENCODE, height: 100 }, `${at}.height: expected an even integer 144-2160, got 100`],
    [{ ...ENCODE, height: 4320 }, `${at}.height: expected an even integer 144-2160, got 4320`],
    [{ ...ENCODE, height: '480' }, `${at}.height: expected an even integer 144-2160, got "480"`],
    [{ fps: 15, bitrateKbps: 600 }, `${at}.height: expected an even integer 144-2160, got nothing`],
    [{ ...ENCODE, fps: 0 }, `${at}.fps: expected an integer 1-60, got 0`],
    [{ ...ENCODE, fps: 61 }, `${at}.fps: expected an integer 1-60, got 61`],
    [{ ...ENCODE, fps: 29.97 }, `${at}.fps: expected an integer 1-60, got 29.97`],
    [{ height: 480, bitrateKbps: 600 }, `${at}.fps: expected an integer 1-60, got nothing`],
    [{ ...ENCODE, gopSeconds: 0.2 }, `${at}.gopSeconds: expected seconds 0.5-10, got 0.2`],
    [{ ...ENCODE, gopSeconds: 11 }, `${at}.gopSeconds: expected seconds 0.5-10, got 11`],
    [
      { ...ENCODE, gopSeconds: 0.7 },
      `${at}.gopSeconds: expected fps × gopSeconds to be whole frames (15 × 0.7), got 0.7`,
    ],
    [{ ...ENCODE, crf: 23 }, `${at}.crf: expected exactly one of bitrateKbps or crf, got 23`],
    [{ height: 480, fps: 15 }, `${at}.bitrateKbps: expected exactly one of bitrateKbps or crf, got nothing`],
    [{ height: 480, fps: 15, crf: 52 }, `${at}.crf: expected a number 0-51, got 52`],
    [{ height: 480, fps: 15, crf: -1 }, `${at}.crf: expected a number 0-51, got -1`],
    [{ ...ENCODE, bitrateKbps: 10 }, `${at}.bitrateKbps: expected an integer kbit/s 50-50000, got 10`],
    [{ ...ENCODE, maxrateKbps: 400 }, `${at}.maxrateKbps: expected at least bitrateKbps (600), got 400`],
    [{ ...ENCODE, bufsizeKbps: 1200 }, `${at}.bufsizeKbps: expected only together with maxrateKbps, got 1200`],
    [{ ...ENCODE, audioBitrateKbps: 96 }, `${at}.audioBitrateKbps: expected only with audio: aac, got 96`],
    [
      { ...ENCODE, audio: 'aac', audioBitrateKbps: 8 },
      `${at}.audioBitrateKbps: expected an integer kbit/s 16-320, got 8`,
    ],
    [{ ...ENCODE, audio: 'mp3' }, `${at}.audio: expected one of copy, aac, drop, got "mp3"`],
    [{ ...ENCODE, codec: 'vp9' }, `${at}.codec: expected one of h264, hevc, copy, got "vp9"`],
    [
      { ...ENCODE, speed: 'insane' },
      `${at}.speed: expected one of ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, got "insane"`,
    ],
    [
      { ...ENCODE, codec: 'hevc', tune: 'film' },
      `${at}.tune: expected one of animation, grain, fastdecode, zerolatency, psnr, ssim for hevc, got "film"`,
    ],
    [{ ...ENCODE, bframes: 17 }, `${at}.bframes: expected an integer 0-16, got 17`],
    [{ ...ENCODE, hardware: 'always' }, `${at}.hardware: expected one of prefer, never, got "always"`],
    [{ ...ENCODE, width: 854 }, `${at}.width: unknown field`],
    [
      { codec: 'copy', height: 480 },
      `${at}.height: not allowed: a copy preset passes the stream through without encoding options, got 480`,
    ],
    [{ codec: 'copy', audio: 'aac' }, `${at}.audio: expected copy or drop: a copy preset does not encode, got "aac"`],
  ];
  for (const [input, expected] of cases) assert.deepEqual(problems(preset(input)), [expected], JSON.stringify(input));
});

test('section rules: names, references to presets, slaves, jobs, hardware', () => {
  const known = 'expected one of the presets 480p-economy, 720p-standard, copy';
  const slave = { url: 'http://10.0.0.5:8080', token: TOKEN };
  const cases: Array<[Record<string, unknown>, string]> = [
    [
      { presets: { 'Big Preset': ENCODE } },
      'compressor.presets.Big Preset: expected 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit, got "Big Preset"',
    ],
    [
      { presets: { p: 5 } },
      'compressor.presets.p: expected a preset such as { height: 480, fps: 15, bitrateKbps: 600 } or { codec: copy }, got 5',
    ],
    [{ defaultPreset: 'nope' }, `compressor.defaultPreset: ${known}, got "nope"`],
    [{ cameraPresets: { 'gate-1': 'nope' } }, `compressor.cameraPresets.gate-1: ${known}, got "nope"`],
    [
      { cameraPresets: { 'Gate 1': 'copy' } },
      'compressor.cameraPresets.Gate 1: expected 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit, got "Gate 1"',
    ],
    [{ maxJobs: 0 }, 'compressor.maxJobs: expected an integer 1-256, got 0'],
    [{ hardware: 'on' }, 'compressor.hardware: expected one of auto, off, got "on"'],
    [
      { slaves: [slave, { ...slave, url: 'http://10.0.0.5:8080/' }] },
      'compressor.slaves.1.url: expected each node once',
    ],
    [
      { slaves: [{ ...slave, url: 'rtsp://10.0.0.5:8554' }] },
      'compressor.slaves.0.url: expected the http(s) URL of a slave, such as http://10.0.0.5:8080',
    ],
    [{ slaves: [{ url: slave.url }] }, 'compressor.slaves.0.token: required'],
  ];
  for (const [input, expected] of cases)
    assert.deepEqual(problems(compressor(input)), [expected], JSON.stringify(input));
});

test('a preset that breaks its own rules does not also make defaultPreset or cameraPresets fail', () => {
  assert.deepEqual(problems(compressor({ presets: { p: { ...ENCODE, height: 481 } }, cameraPresets: { cam: 'p' } })), [
    'compressor.presets.p.height: expected an even integer 144-2160, got 481',
  ]);
});

test('slave tokens are secret: never echoed in errors, redacted in copies of the config', () => {
  const bad = 'cpt_notatoken-but-a-secret';
  const [message] = problems(compressor({ slaves: [{ url: 'http://10.0.0.5:8080', token: bad }] }));
  assert.equal(message, 'compressor.slaves.0.token: expected an API token of that slave (cpt_…)');
  assert.ok(!message!.includes(bad));
  const config = validateConfig(compressor({ slaves: [{ url: 'http://10.0.0.5:8080', token: TOKEN, name: 'a' }] }));
  assert.equal(config.compressor.slaves[0]?.token, TOKEN);
  assert.equal(redactConfig(config).compressor && JSON.stringify(redactConfig(config)).includes(TOKEN), false);
  assert.equal((redactConfig(config).compressor as Record<string, unknown>).slaves, REDACTED);
});

test('every compressor field is documented; hardware needs a restart; slaves are secret', () => {
  const fields = configFields().filter((f) => f.path.startsWith('compressor.'));
  assert.deepEqual(
    fields.map((f) => f.path),
    [
      'compressor.slaves',
      'compressor.presets',
      'compressor.defaultPreset',
      'compressor.cameraPresets',
      'compressor.maxJobs',
      'compressor.hardware',
    ],
  );
  for (const f of fields) assert.ok(f.description.length > 20, f.path);
  assert.deepEqual(
    fields.filter((f) => f.requiresRestart).map((f) => f.path),
    ['compressor.hardware'],
  );
  assert.deepEqual(
    fields.filter((f) => f.secret).map((f) => f.path),
    ['compressor.slaves'],
  );
});
