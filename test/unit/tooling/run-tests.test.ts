import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { findLeftovers, listProcesses, readProcess, type ProcessInfo } from '../../../build/scripts/lib/processes.mjs';
import {
  closingLine,
  formatTable,
  parseSummary,
  selectTiers,
  tierOf,
  totals,
} from '../../../build/scripts/lib/test-summary.mjs';

describe('node:test summaries', () => {
  test('reads the TAP summary; cancelled counts as failed, todo as skipped', () => {
    const tap = [
      'ok 1 - a',
      '  # Subtest: nested',
      '  # pass 99',
      '1..4',
      '# tests 7',
      '# suites 0',
      '# pass 3',
      '# fail 1',
      '# cancelled 1',
      '# skipped 1',
      '# todo 1',
      '# duration_ms 12.5',
    ].join('\n');
    assert.deepEqual(parseSummary(tap), { passed: 3, failed: 2, skipped: 2 });
  });

  test('reads the spec summary', () => {
    const spec = 'ℹ tests 2\nℹ suites 0\nℹ pass 2\nℹ fail 0\nℹ cancelled 0\nℹ skipped 0\nℹ todo 0\n';
    assert.deepEqual(parseSummary(spec), { passed: 2, failed: 0, skipped: 0 });
  });

  test('returns null without a summary (a crashed run)', () => {
    assert.equal(parseSummary('ok 1 - a\n'), null);
    assert.equal(parseSummary(''), null);
  });
});

describe('report', () => {
  const results = [
    { tier: 'static', status: 'passed', passed: 5, failed: 0, skipped: 0, seconds: 12.34 },
    { tier: 'unit', status: 'failed', passed: 40, failed: 2, skipped: 1, seconds: 3, note: 'x' },
  ];

  test('the closing line has the shape the CI reads', () => {
    const line = closingLine(totals(results));
    assert.equal(line, 'tests: 45 passed, 2 failed, 1 skipped');
    assert.match(line, /^(\w+: )?\d+ passed, \d+ failed(, \d+ skipped)?$/);
  });

  test('the table has a row per tier', () => {
    const lines = formatTable(results).split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[2] ?? '', /^static\s+passed\s+5\s+0\s+0\s+12\.3 s$/);
  });
});

describe('selection', () => {
  test('no arguments run every tier in order', () => {
    assert.deepEqual(selectTiers([]), { tiers: ['static', 'unit', 'integration', 'e2e', 'cluster'], paths: [] });
  });

  test('tiers run in the fixed order whatever the argument order', () => {
    assert.deepEqual(selectTiers(['integration', 'unit']).tiers, ['unit', 'integration']);
  });

  test('paths select files alone, unknown words are refused', () => {
    assert.deepEqual(selectTiers(['test/unit/x.test.ts']), { tiers: [], paths: ['test/unit/x.test.ts'] });
    assert.throws(() => selectTiers(['units']), /unknown tier units/);
    assert.throws(() => selectTiers(['integration', 'test/integration/a.test.ts']), /not both/);
    assert.equal(tierOf('test/integration/rtsp/a.test.ts'), 'integration');
    assert.equal(tierOf('/repo/test/unit/a.test.ts'), 'unit');
    assert.equal(tierOf('elsewhere/a.test.ts'), null);
  });
});

describe('leftover processes', () => {
  const proc = (pid: number, ppid: number, comm: string, runId: string | null, startTicks = 100): ProcessInfo => ({
    pid,
    ppid,
    state: 'S',
    startTicks,
    comm,
    cmdline: comm,
    runId,
  });
  const options = { runId: 'run-a', selfPid: 10, selfStartTicks: 50, strict: false };

  test('finds processes marked with this run or descending from it', () => {
    const processes = [
      proc(1, 0, 'init', null, 0),
      proc(10, 1, 'node', 'run-a'),
      proc(20, 1, 'ffmpeg', 'run-a'),
      proc(30, 10, 'sleep', null),
      proc(31, 30, 'gst-launch-1.0', null),
      proc(40, 1, 'ffmpeg', 'run-b'),
      proc(41, 1, 'ffmpeg', null),
    ];
    assert.deepEqual(
      findLeftovers(processes, options).map((p) => p.pid),
      [20, 30, 31],
    );
  });

  test('in strict mode (CI) also unmarked watched programs started after the run', () => {
    const processes = [
      proc(10, 1, 'node', 'run-a'),
      proc(41, 1, 'ffmpeg', null, 60),
      proc(42, 1, 'chromium', null, 10),
      proc(43, 1, 'bash', null, 60),
    ];
    assert.deepEqual(
      findLeftovers(processes, { ...options, strict: true }).map((p) => p.pid),
      [41],
    );
  });

  test(
    'reads real processes from /proc, environment marker included',
    { skip: process.platform !== 'linux' },
    async () => {
      const child = spawn('sleep', ['30'], {
        env: { ...process.env, CUPOLA_TEST_RUN_ID: 'marker-123' },
        stdio: 'ignore',
      });
      try {
        await new Promise((resolve) => child.once('spawn', resolve));
        const info = readProcess(child.pid ?? -1);
        assert.equal(info?.ppid, process.pid);
        assert.equal(info?.runId, 'marker-123');
        assert.ok(listProcesses().some((p) => p.pid === child.pid));
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
});
