import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROGRESS_ARGS, planLaunch, redactArgs } from '../../../app/supervisor/launch.js';
import { findExecutable } from '../../../app/supervisor/probe.js';
import type { ChildSpec } from '../../../app/supervisor/types.js';

const ENV = { PATH: '/usr/bin:/bin' };
const base: ChildSpec = { name: 'x', kind: 'ffmpeg', command: 'ffmpeg', args: ['-i', 'in', 'out'] };

test('ffmpeg with progress gets -progress pipe:1 -nostats in front of its own args', () => {
  const plan = planLaunch({ ...base, progress: true }, undefined, ENV);
  assert.ok(plan.ok);
  assert.equal(plan.command, '/usr/bin/ffmpeg');
  assert.deepEqual(plan.args, [...PROGRESS_ARGS, '-i', 'in', 'out']);
  const plain = planLaunch(base, undefined, ENV);
  assert.ok(plain.ok);
  assert.deepEqual(plain.args, ['-i', 'in', 'out']);
});

test('with the pdeathsig wrapper the resolved binary runs under setpriv', () => {
  const plan = planLaunch(base, '/usr/bin/setpriv', ENV);
  assert.ok(plan.ok);
  assert.equal(plan.command, '/usr/bin/setpriv');
  assert.deepEqual(plan.args, ['--pdeathsig', 'SIGKILL', '--', '/usr/bin/ffmpeg', '-i', 'in', 'out']);
});

test('spec env is merged over the base env, and its PATH is used to find the command', () => {
  const plan = planLaunch({ ...base, command: 'sh', env: { FOO: 'bar', PATH: '/bin' } }, undefined, {
    PATH: '/nowhere',
    KEEP: '1',
  });
  assert.ok(plan.ok);
  assert.equal(plan.resolved, '/bin/sh');
  assert.equal(plan.env.FOO, 'bar');
  assert.equal(plan.env.KEEP, '1');
});

test('a missing binary is a plan error (ENOENT), not a spawn', (t) => {
  const bare = planLaunch({ ...base, command: 'no-such-binary-cupola' }, undefined, ENV);
  assert.deepEqual(bare, { ok: false, error: 'ENOENT: no-such-binary-cupola was not found on PATH' });
  const path = planLaunch({ ...base, command: '/nope/ffmpeg' }, undefined, ENV);
  assert.equal(path.ok, false);
  assert.equal(findExecutable('ffmpeg', { PATH: '' }), undefined, 'an empty PATH finds nothing');
  const dir = mkdtempSync(join(tmpdir(), 'cupola-launch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ffmpeg'), '#!/bin/sh\n', { mode: 0o644 });
  assert.equal(findExecutable(join(dir, 'ffmpeg'), ENV), undefined, 'a file without x bits is not executable');
  assert.equal(findExecutable('ffmpeg', { PATH: dir }), undefined);
});

test('secrets in URLs are masked for logs: passwords, secret query values, rtmp stream keys', () => {
  const argv = ['-i', 'rtsp://admin:s3cret@10.0.0.5:554/live', '-f', 'flv', 'rtmp://u:p@h/app/streamkey'];
  assert.deepEqual(redactArgs([...argv, 'srt://h:9000?passphrase=pp', 'plain']), [
    ...['-i', 'rtsp://admin:***@10.0.0.5:554/live', '-f', 'flv', 'rtmp://u:***@h/app/***'],
    ...['srt://h:9000?passphrase=***', 'plain'],
  ]);
});
