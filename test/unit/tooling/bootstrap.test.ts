import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  buildDecision,
  depsStamp,
  installCommand,
  installedTreeDiff,
  newestMtime,
  nodeMajor,
  packagesFor,
  parseArgs,
  requiredTools,
  scanInputs,
} from '../../../build/scripts/lib/bootstrap-lib.mjs';

describe('dependency stamp', () => {
  test('reads the major of a Node version', () => {
    assert.equal(nodeMajor('v20.20.2'), 20);
    assert.equal(nodeMajor('22.1.0'), 22);
    assert.throws(() => nodeMajor('nightly'));
  });

  test('changes with the lockfile and with the Node major, not with the minor', () => {
    const base = depsStamp('{"lockfileVersion":3}', 'v20.1.0');
    assert.equal(depsStamp('{"lockfileVersion":3}', 'v20.19.5'), base);
    assert.notEqual(depsStamp('{"lockfileVersion":3} ', 'v20.1.0'), base);
    assert.notEqual(depsStamp('{"lockfileVersion":3}', 'v22.1.0'), base);
    assert.match(base, /^lock-sha256=[0-9a-f]{64} node=20\n$/);
  });
});

describe('installed tree vs lockfile', () => {
  const lock = {
    packages: {
      '': { name: 'cupola' },
      'node_modules/zod': { version: '4.6.7', integrity: 'sha512-a' },
      'node_modules/ffmpeg-static': { version: '5.3.0', optional: true },
    },
  };

  test('agrees when only an optional package is missing (a failed optional install)', () => {
    const hidden = { packages: { 'node_modules/zod': { version: '4.6.7', integrity: 'sha512-a' } } };
    assert.equal(installedTreeDiff(lock, hidden), null);
  });

  test('names a missing, different or extra package', () => {
    assert.match(installedTreeDiff(lock, { packages: {} }) ?? '', /zod is not installed/);
    const older = { packages: { 'node_modules/zod': { version: '4.0.0' } } };
    assert.match(installedTreeDiff(lock, older) ?? '', /zod is 4\.0\.0/);
    const extra = {
      packages: { 'node_modules/zod': { version: '4.6.7' }, 'node_modules/left-pad': { version: '1.0.0' } },
    };
    assert.match(installedTreeDiff(lock, extra) ?? '', /left-pad is installed but not in the lockfile/);
  });

  test('with a disk check, a package recorded but not on disk is a difference', () => {
    const hidden = { packages: { 'node_modules/zod': { version: '4.6.7', integrity: 'sha512-a' } } };
    assert.equal(
      installedTreeDiff(lock, hidden, () => true),
      null,
    );
    assert.match(installedTreeDiff(lock, hidden, () => false) ?? '', /zod is recorded but not on disk/);
  });

  test('treats a missing hidden lockfile as a missing tree', () => {
    assert.notEqual(installedTreeDiff(lock, null), null);
  });
});

describe('build staleness', () => {
  const root = mkdtempSync(join(tmpdir(), 'cupola-bootstrap-test-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const at = (path: string, seconds: number) => utimesSync(join(root, path), seconds, seconds);

  test('finds the newest file or folder below the inputs and ignores missing ones', () => {
    mkdirSync(join(root, 'app/sub'), { recursive: true });
    writeFileSync(join(root, 'app/a.ts'), '');
    writeFileSync(join(root, 'app/sub/b.ts'), '');
    writeFileSync(join(root, 'tsconfig.json'), '');
    at('app/a.ts', 1000);
    at('app/sub/b.ts', 3000);
    at('app/sub', 1000);
    at('app', 1000);
    at('tsconfig.json', 2000);
    const newest = newestMtime(['app', 'tsconfig.json', 'does-not-exist'], root);
    assert.equal(newest.mtimeMs, 3_000_000);
    assert.equal(newest.path, join(root, 'app/sub/b.ts'));
    assert.deepEqual(newestMtime(['nothing-here'], root), { mtimeMs: 0, path: null });
  });

  test('skips node_modules, .git and dist below the inputs', () => {
    mkdirSync(join(root, 'app/node_modules'), { recursive: true });
    writeFileSync(join(root, 'app/node_modules/x.js'), '');
    at('app/node_modules/x.js', 9000);
    at('app/node_modules', 1000);
    at('app', 1000);
    assert.equal(newestMtime(['app'], root).mtimeMs, 3_000_000);
  });

  test('a deleted file makes its folder newer', () => {
    rmSync(join(root, 'app/sub/b.ts'));
    assert.ok(newestMtime(['app'], root).mtimeMs > 3_000_000);
  });

  test('the fingerprint changes when a file changes, even to an older mtime, and not otherwise', () => {
    writeFileSync(join(root, 'app/c.ts'), 'one');
    at('app/c.ts', 5000);
    const before = scanInputs(['app'], root);
    assert.equal(scanInputs(['app'], root).fingerprint, before.fingerprint);
    writeFileSync(join(root, 'app/c.ts'), 'three');
    at('app/c.ts', 4000); // replaced by an older copy (tar, cp -p)
    at('app', 1000);
    const after = scanInputs(['app'], root);
    assert.notEqual(after.fingerprint, before.fingerprint);
    assert.ok(after.count >= 3);
  });

  test('builds when never built, outputs are gone, or the inputs differ from the last build', () => {
    const inputs = { fingerprint: 'f1', newestMtimeMs: 10, newestPath: 'x', count: 1 };
    const stamp = { startedAt: 10, fingerprint: 'f1' };
    assert.equal(buildDecision({ stamp: null, inputs, outputsExist: true }).why, 'never built');
    assert.equal(buildDecision({ stamp, inputs, outputsExist: false }).why, 'outputs missing');
    assert.equal(buildDecision({ stamp, inputs: { ...inputs, newestMtimeMs: 11 }, outputsExist: true }).build, true);
    assert.equal(buildDecision({ stamp, inputs: { ...inputs, fingerprint: 'f2' }, outputsExist: true }).build, true);
    assert.deepEqual(buildDecision({ stamp, inputs, outputsExist: true }), { build: false, why: 'up to date' });
  });
});

describe('system tools', () => {
  test('tests need Chromium and GStreamer, serving only ffmpeg', () => {
    assert.deepEqual(requiredTools(false), { programs: ['ffmpeg', 'ffprobe'], elements: [] });
    const forTests = requiredTools(true);
    assert.ok(forTests.programs.includes('chromium'));
    assert.ok(forTests.elements.includes('avdec_h264'));
  });

  test('maps missing tools to the Debian packages, once each', () => {
    assert.deepEqual(packagesFor(['ffprobe', 'ffmpeg', 'h264parse', 'rtspsrc', 'rtph264depay']), [
      'ffmpeg',
      'gstreamer1.0-plugins-bad',
      'gstreamer1.0-plugins-good',
    ]);
    assert.deepEqual(packagesFor(['avdec_h264', 'gst-launch-1.0', 'rtspclientsink', 'chromium']), [
      'chromium',
      'gstreamer1.0-libav',
      'gstreamer1.0-rtsp',
      'gstreamer1.0-tools',
    ]);
    assert.deepEqual(packagesFor(['dejavu-font', 'ffmpeg']), ['ffmpeg', 'fonts-dejavu-core']);
    assert.throws(() => packagesFor(['x264enc']), /no Debian package/);
  });

  test('tells a non-root user to use sudo', () => {
    assert.equal(
      installCommand(['ffmpeg'], false),
      'sudo apt-get update && sudo apt-get install -y --no-install-recommends ffmpeg',
    );
    assert.doesNotMatch(installCommand(['ffmpeg'], true), /sudo/);
  });
});

test('reads the flags and refuses unknown ones', () => {
  assert.deepEqual(parseArgs([]), { forTests: false, buildOnly: false, quiet: false });
  assert.deepEqual(parseArgs(['--for-tests', '--quiet']), { forTests: true, buildOnly: false, quiet: true });
  assert.throws(() => parseArgs(['--fast']), /unknown argument --fast/);
});
