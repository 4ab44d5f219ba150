/** Admission decisions and the windowed speed, over made-up measurements. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CapacityPolicy, DEFAULT_CAPACITY, type RunningJob } from '../../../app/compressor/capacity.js';
import { SpeedMeter } from '../../../app/compressor/speed-meter.js';

const job = (id: string, over: Partial<RunningJob> = {}): RunningJob => ({
  id,
  admittedAt: 0,
  speed: 1,
  slowSince: null,
  cpuCores: 0.5,
  ...over,
});
const NOW = 100_000;

test('admits the first job at once, then one at a time once the others have settled at full speed', () => {
  const p = new CapacityPolicy(DEFAULT_CAPACITY);
  assert.deepEqual(p.decide([], true, { idleCores: null }, NOW), { action: 'admit' });
  assert.equal(p.decide([job('a', { admittedAt: NOW - 1000 })], true, { idleCores: 2 }, NOW).action, 'hold');
  assert.equal(p.decide([job('a', { speed: null })], true, { idleCores: 2 }, NOW).action, 'hold');
  assert.deepEqual(p.decide([job('a')], true, { idleCores: 1.5 }, NOW), { action: 'admit' });
  assert.deepEqual(p.decide([job('a')], false, { idleCores: 1.5 }, NOW), { action: 'hold', reason: 'nothing waits' });
});

test('holds when a settled job is below real time, when idle CPU is less than a job costs, or at maxJobs', () => {
  const p = new CapacityPolicy({ ...DEFAULT_CAPACITY, maxJobs: 2 });
  assert.match(reason(p.decide([job('a', { speed: 0.98 })], true, { idleCores: 2 }, NOW)), /below speed 0.99/);
  assert.match(reason(p.decide([job('a', { cpuCores: 0.9 })], true, { idleCores: 0.9 }, NOW)), /idle cores/);
  assert.match(reason(p.decide([job('a'), job('b')], true, { idleCores: 2 }, NOW)), /max 2 jobs/);
});

test('a job below 0.97 for 10 s is degraded; the newest job is shed and the count becomes a ceiling for a while', () => {
  const p = new CapacityPolicy(DEFAULT_CAPACITY);
  const slow = job('a', { slowSince: NOW - 9000, speed: 0.9 });
  assert.equal(p.isDegraded(slow, NOW), false);
  assert.equal(p.isDegraded(slow, NOW + 1000), true);
  const jobs = [job('a', { slowSince: NOW - 10_000 }), job('b', { admittedAt: 50 }), job('c', { admittedAt: 10 })];
  const shed = p.decide(jobs, true, { idleCores: 2 }, NOW);
  assert.equal(shed.action, 'shed');
  assert.equal(shed.action === 'shed' && shed.id, 'b', 'the most recently admitted');
  assert.equal(p.currentCeiling(NOW), 2);
  assert.match(reason(p.decide([job('a'), job('c')], true, { idleCores: 2 }, NOW + 1000)), /2 jobs is what/);
  assert.equal(
    p.decide([job('a'), job('c')], true, { idleCores: 2 }, NOW + DEFAULT_CAPACITY.ceilingHoldMs).action,
    'admit',
  );
  // A single degraded job is not shed: there is nothing to make room for.
  assert.equal(p.decide([job('a', { slowSince: 0 })], false, { idleCores: 0 }, NOW).action, 'hold');
});

test('SpeedMeter: media time over wall time in the window, not since the start; stalls and restarts', () => {
  const m = new SpeedMeter(5000);
  // 20 s at full speed, then 6 s at half speed.
  let at = 0;
  let out = 0;
  for (; at <= 20_000; at += 500, out += 500) m.add(out, at);
  assert.ok(Math.abs(m.speed(at - 500)! - 1) < 0.01);
  for (; at <= 26_000; at += 500, out += 250) m.add(out, at);
  assert.ok(Math.abs(m.speed(at - 500)! - 0.5) < 0.03, `now ${m.speed(at - 500)}`);
  // Progress stops arriving: the speed falls instead of staying at its last value.
  assert.ok(m.speed(at + 9000)! < 0.25, `stalled ${m.speed(at + 9000)}`);
  m.add(0, at + 10_000); // restarted: out_time went back
  assert.equal(m.speed(at + 10_000), null);
});

function reason(d: ReturnType<CapacityPolicy['decide']>): string {
  return d.action === 'admit' ? 'admit' : d.reason;
}
