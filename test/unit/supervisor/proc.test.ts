import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseProcStat, readProcStat } from '../../../app/supervisor/proc.js';
import { readRegistry, registryPath } from '../../../app/supervisor/registry.js';

test('parseProcStat counts fields after the last ")" so odd process names do not shift them', () => {
  const line = '4242 (a) b (c) S 1 4242 4242 0 -1 4194560 1 0 0 0 7 5 0 0 20 0 1 0 987654 1000 1 0';
  assert.deepEqual(parseProcStat(line), {
    pid: 4242,
    state: 'S',
    ppid: 1,
    pgid: 4242,
    sid: 4242,
    startTime: '987654',
    cpuTicks: 12, // utime 7 + stime 5
  });
  assert.equal(parseProcStat('garbage'), undefined);
});

test('readProcStat reads this process and nothing for a pid that does not exist', () => {
  const me = readProcStat(process.pid);
  assert.equal(me?.pid, process.pid);
  assert.equal(me?.ppid, process.ppid);
  assert.match(me?.startTime ?? '', /^\d+$/);
  assert.equal(readProcStat(2 ** 22 + 1), undefined);
});

test('a corrupt or foreign run file is ignored rather than blocking start-up', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-reg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(readRegistry(dir), undefined, 'absent');
  writeFileSync(registryPath(dir), '{not json');
  assert.equal(readRegistry(dir), undefined, 'corrupt');
  writeFileSync(
    registryPath(dir),
    JSON.stringify({
      version: 1,
      owner: { pid: 5, startTime: '9' },
      children: [{ name: 'a', pgid: 1, startTime: '1' }, { name: 'b', pgid: 77, startTime: '2' }, null],
    }),
  );
  assert.deepEqual(
    readRegistry(dir)?.children,
    [{ name: 'b', pgid: 77, startTime: '2' }],
    'pgid 1 (init) and junk are dropped',
  );
});
