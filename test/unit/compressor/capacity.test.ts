/** Admission decisions, the pool's admission loop and the windowed speed, over made-up measurements and fakes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CapacityPolicy, DEFAULT_CAPACITY, type RunningJob } from '../../../app/compressor/capacity.js';
import type { CpuSampler } from '../../../app/compressor/cpu.js';
import { TranscodePool, type PoolSpawner } from '../../../app/compressor/pool.js';
import { SpeedMeter } from '../../../app/compressor/speed-meter.js';
import type { JobDefinition } from '../../../app/defs/job.js';
import { silentLogger } from '../../../app/log/logger.js';
import type { SupervisedChild } from '../../../app/supervisor/types.js';

const job = (id: string, over: Partial<RunningJob> = {}): RunningJob => ({
  id,
  admittedAt: 0,
  speed: 1,
  slowSince: null,
  cpuCores: 0.5,
  ...over,
});
const NOW = 100_000;

test('admits the first job at once, then one at a time while no settled job gives a cost to go by', () => {
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

test('next to settling jobs, more are admitted only while idle CPU clearly allows (burstIdleJobs)', () => {
  const p = new CapacityPolicy(DEFAULT_CAPACITY); // burstIdleJobs 2
  const settled = job('a', { cpuCores: 0.3 });
  const settling = job('b', { admittedAt: NOW - 500, speed: null, cpuCores: null });
  // 1.5 idle, less 0.3 expected of the settling job: 1.2 ≥ 2 × 0.3.
  assert.deepEqual(p.decide([settled, settling], true, { idleCores: 1.5 }, NOW), { action: 'admit' });
  // Two settling: 1.5 − 0.6 = 0.9 ≥ 0.6 still; three: 1.5 − 0.9 = 0.6 ≥ 0.6; four: 0.3 < 0.6.
  const more = (n: number) => Array.from({ length: n }, (_, i) => job(`s${i}`, { admittedAt: NOW - 100, speed: null }));
  assert.equal(p.decide([settled, ...more(2)], true, { idleCores: 1.5 }, NOW).action, 'admit');
  assert.equal(p.decide([settled, ...more(3)], true, { idleCores: 1.5 }, NOW).action, 'admit');
  assert.match(reason(p.decide([settled, ...more(4)], true, { idleCores: 1.5 }, NOW)), /a job is settling/);
  // Not clearly enough: 0.8 − 0.3 = 0.5 < 0.6, although a single admission (0.8 ≥ 0.33) would pass.
  assert.match(reason(p.decide([settled, settling], true, { idleCores: 0.8 }, NOW)), /a job is settling/);
  // No measurement, or no settled job to take a cost from: one at a time.
  assert.match(reason(p.decide([settled, settling], true, { idleCores: null }, NOW)), /a job is settling/);
  assert.match(reason(p.decide([settling], true, { idleCores: 2 }, NOW)), /a job is settling/);
  assert.match(reason(p.decide([job('c', { cpuCores: null }), settling], true, { idleCores: 2 }, NOW)), /settling/);
  // A settled job below real time still holds everything.
  assert.match(reason(p.decide([job('a', { speed: 0.9 }), settling], true, { idleCores: 2 }, NOW)), /below speed/);
  assert.match(reason(p.decide([settled, settling], false, { idleCores: 2 }, NOW)), /nothing waits/);
});

test('pool: jobs wanted together next to settled ones start together; CPU is sampled on the timer only', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let clock = 0;
  const cpu = { idle: 1.5 as number | null, samples: 0 };
  const fakeCpu = {
    idleCores: () => (cpu.samples++, cpu.idle),
    processCores: () => 0.3,
    retain: () => {},
  } as unknown as CpuSampler;
  const spawned: string[] = [];
  const supervisor: PoolSpawner = {
    spawn(spec) {
      const pid = 1000 + spawned.push(spec.name);
      const at = clock;
      return {
        name: spec.name,
        status: () => ({
          ...{ name: spec.name, kind: 'ffmpeg', state: 'running', pid, restarts: 0, startedAt: null, lastExit: null },
          progress: { frame: 1 + (clock - at) / 40, outTimeMs: clock - at },
        }),
        logs: () => [],
        send: () => false,
        onMessage: () => () => {},
      } satisfies SupervisedChild;
    },
    remove: async () => {},
  };
  const pool = new TranscodePool({
    supervisor,
    ffmpeg: 'ffmpeg',
    capacity: DEFAULT_CAPACITY,
    stallTimeoutMs: 5000,
    log: silentLogger(),
    onState: () => {},
    cpu: fakeCpu,
    now: () => clock,
  });
  const advance = (ms: number) => {
    for (let i = 0; i < ms / 1000; i++) {
      clock += 1000;
      t.mock.timers.tick(1000);
    }
  };
  pool.start();
  t.after(() => pool.stop());
  const state = (camera: string) => pool.get(`s/${camera}`)?.state;

  // A fresh pool: the first job at once, the second only once the first has settled (no cost known before).
  pool.want(def('a'));
  pool.want(def('b'));
  assert.deepEqual(spawned, ['job:s/a']);
  advance(5000);
  assert.deepEqual(spawned, ['job:s/a'], 'b waits while a settles');
  advance(4000);
  assert.deepEqual(spawned, ['job:s/a', 'job:s/b']);
  advance(10_000);

  // Two jobs wanted a moment apart (a takeover) next to settled jobs, with idle CPU to spare: both start now.
  const samples = cpu.samples;
  pool.want(def('c'));
  pool.want(def('d'));
  assert.deepEqual(spawned.slice(2), ['job:s/c', 'job:s/d']);
  assert.equal(cpu.samples, samples, 'want() does not sample the CPU');
  assert.equal(state('d'), 'starting');
  advance(10_000);

  // Little idle CPU: one more, and the next one waits until it has settled.
  cpu.idle = 0.8;
  advance(1000);
  pool.want(def('e'));
  pool.want(def('f'));
  assert.deepEqual(spawned.slice(4), ['job:s/e']);
  assert.equal(state('f'), 'waiting-for-capacity');
  assert.equal(pool.get('s/f')?.reason, 'a job is settling');
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

function def(camera: string): JobDefinition {
  const end = { url: `rtsp://slave/${camera}`, codec: 'h264', width: null, height: null };
  return { id: `s/${camera}`, slave: 's', camera, preset: 'p', encoder: 'libx264', args: [], input: end, output: end };
}

function reason(d: ReturnType<CapacityPolicy['decide']>): string {
  return d.action === 'admit' ? 'admit' : d.reason;
}
