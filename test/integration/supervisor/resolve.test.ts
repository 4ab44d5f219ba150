import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  BinaryNotFoundError,
  loadFfmpegStatic,
  parseVersion,
  resolveFfmpeg,
  resolveFfprobe,
} from '../../../app/ffmpeg/resolve.js';

const SYSTEM = { PATH: '/usr/local/bin:/usr/bin:/bin' };
// The optional dependency is not installed in CI; these tests adapt if someone installs it.
const STATIC = loadFfmpegStatic();

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-ffbin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('ffmpeg-static is optional: loading it never throws, it is just absent', () => {
  assert.ok(STATIC === undefined || STATIC.endsWith(`ffmpeg${process.platform === 'win32' ? '.exe' : ''}`));
});

test('with nothing configured, ffmpeg is found on PATH and its version is read', () => {
  const found = resolveFfmpeg({ env: SYSTEM });
  assert.equal(found.source, STATIC ? 'ffmpeg-static' : 'path');
  assert.match(found.path, /\/ffmpeg$/);
  assert.match(found.version, /^\S+$/);
});

test('the config path wins over FFMPEG_PATH, which wins over PATH', () => {
  assert.deepEqual(
    [
      resolveFfmpeg({ configured: '/usr/bin/ffmpeg', env: { FFMPEG_PATH: '/nope', PATH: '' } }).source,
      resolveFfmpeg({ env: { FFMPEG_PATH: '/usr/bin/ffmpeg', PATH: '' } }).source,
    ],
    ['config', 'env'],
  );
});

test('FFMPEG_PATH pointing to a missing file is an error that names it, not a silent fall-through to PATH', () => {
  assert.throws(
    () => resolveFfmpeg({ env: { ...SYSTEM, FFMPEG_PATH: '/opt/missing/ffmpeg' } }),
    (err: unknown) => {
      assert.ok(err instanceof BinaryNotFoundError);
      assert.equal(err.binary, 'ffmpeg');
      assert.deepEqual(
        err.tried.map((a) => [a.source, a.candidate]),
        [['env', '/opt/missing/ffmpeg']],
      );
      assert.match(err.message, /FFMPEG_PATH: \/opt\/missing\/ffmpeg: ENOENT/);
      assert.match(err.message, /Fix FFMPEG_PATH, or unset it/);
      return true;
    },
  );
});

test('a configured binary that runs but is not ffmpeg is rejected', (t) => {
  const fake = join(tempDir(t), 'ffmpeg');
  writeFileSync(fake, '#!/bin/sh\necho "hello"\n', { mode: 0o755 });
  assert.throws(
    () => resolveFfmpeg({ configured: fake, env: SYSTEM }),
    /config ffmpeg\.path: .*not ffmpeg's[\s\S]*Fix ffmpeg\.path/,
  );
});

test(
  'missing everywhere: the error lists every attempt and says how to fix it',
  { skip: STATIC !== undefined && 'ffmpeg-static is installed' },
  () => {
    assert.throws(
      () => resolveFfmpeg({ env: { PATH: '' } }),
      (err: unknown) => {
        assert.ok(err instanceof BinaryNotFoundError);
        assert.deepEqual(
          err.tried.map((a) => a.source),
          ['ffmpeg-static', 'path'],
        );
        assert.match(err.message, /no usable ffmpeg found/);
        assert.match(err.message, /apt-get install ffmpeg/);
        assert.match(err.message, /FFMPEG_PATH/);
        return true;
      },
    );
  },
);

test('ffprobe: next to ffmpeg first, then PATH, then a clear error', (t) => {
  assert.equal(resolveFfprobe({ ffmpegPath: '/usr/bin/ffmpeg', env: { PATH: '' } }).source, 'beside-ffmpeg');
  const lonely = tempDir(t); // an ffmpeg with no ffprobe next to it, as with ffmpeg-static
  symlinkSync('/usr/bin/ffmpeg', join(lonely, 'ffmpeg'));
  assert.equal(resolveFfprobe({ ffmpegPath: join(lonely, 'ffmpeg'), env: SYSTEM }).source, 'path');
  assert.throws(
    () => resolveFfprobe({ ffmpegPath: join(lonely, 'ffmpeg'), env: { PATH: '' } }),
    /no usable ffprobe found[\s\S]*next to ffmpeg[\s\S]*apt-get install ffmpeg/,
  );
});

test('parseVersion reads release and git builds', () => {
  assert.equal(parseVersion('ffmpeg', 'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026'), '5.1.9-0+deb12u1');
  assert.equal(
    parseVersion('ffmpeg', 'ffmpeg version N-112233-gabcdef0-static https://johnvansickle.com'),
    'N-112233-gabcdef0-static',
  );
  assert.equal(parseVersion('ffprobe', 'ffmpeg version 6.0'), undefined);
});
