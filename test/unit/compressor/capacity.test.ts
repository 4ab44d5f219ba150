/**
 * Admission decisions, the pool's admission loop, its speed and CPU readings, maxJobs at run time and the windowed
 * speed, over made-up measurements and fakes.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  CapacityPolicy,
  DEFAULT_CAPACITY,
  type CapacityOptions,
  type RunningJob,
} from '../../../app/compressor/capacity.js';
import type { CpuSampler } from '../../../app/compressor/cpu.js';
import { TranscodePool, type PoolSpawner } from '../../../app/compressor/pool.js';
import { SpeedMeter } from '../../../app/compressor/speed-meter.js';
import type { ChildProgress } from '../../../app/defs/child.js';
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

test('after a shed, the next waits a settle time: the speeds are measured over seconds and lag the shed', () => {
  const p = new CapacityPolicy(DEFAULT_CAPACITY);
  const slow = { slowSince: NOW - 20_000, speed: 0.8 };
  const four = ['a', 'b', 'c', 'd'].map((id, i) => job(id, { ...slow, admittedAt: i }));
  const first = p.decide(four, true, { idleCores: 0 }, NOW);
  assert.deepEqual(first, { action: 'shed', id: 'd', reason: '4 job(s) below speed 0.97' });
  // The three left still read as degraded a second later (their window still holds the overload): no second shed,
  // and nothing admitted either.
  const three = four.slice(0, 3);
  assert.equal(p.decide(three, true, { idleCores: 0 }, NOW + 1000).action, 'hold');
  assert.equal(p.decide(three, true, { idleCores: 0 }, NOW + DEFAULT_CAPACITY.settleMs - 1).action, 'hold');
  assert.match(reason(p.decide(three, false, { idleCores: 0 }, NOW + 1000)), /nothing waits/);
  // Still degraded a settle time later: the shed was not enough, one more goes.
  const second = p.decide(three, true, { idleCores: 0 }, NOW + DEFAULT_CAPACITY.settleMs);
  assert.deepEqual(second, { action: 'shed', id: 'c', reason: '3 job(s) below speed 0.97' });
  assert.equal(p.currentCeiling(NOW + DEFAULT_CAPACITY.settleMs), 2);
});

test('maxJobs lowered below the running jobs sheds the newest down to it, without learning a ceiling', () => {
  const p = new CapacityPolicy(DEFAULT_CAPACITY);
  const three = [job('a', { admittedAt: 3 }), job('b', { admittedAt: 1 }), job('c', { admittedAt: 2 })];
  assert.equal(p.decide(three, true, { idleCores: 1.5 }, NOW).action, 'admit');
  p.update({ maxJobs: 1 });
  assert.equal(p.options().maxJobs, 1);
  assert.deepEqual(p.decide(three, true, { idleCores: 1.5 }, NOW), { action: 'shed', id: 'a', reason: 'max 1 jobs' });
  // Not a shed for speed: the next one goes at once.
  const two = [three[1]!, three[2]!];
  assert.deepEqual(p.decide(two, true, { idleCores: 1.5 }, NOW), { action: 'shed', id: 'c', reason: 'max 1 jobs' });
  assert.match(reason(p.decide([three[1]!], true, { idleCores: 1.5 }, NOW)), /max 1 jobs/);
  assert.equal(p.currentCeiling(NOW), null);
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

test('the cost a burst goes by is the dearest settled job, never a settling one', () => {
  const p = new CapacityPolicy(DEFAULT_CAPACITY); // burstIdleJobs 2
  const cheap = job('a', { cpuCores: 0.2 });
  const dear = job('b', { cpuCores: 0.5 });
  const settling = job('s', { admittedAt: NOW - 500, speed: null, cpuCores: 0.05 });
  // By the mean (0.35): 1.4 − 0.35 = 1.05 ≥ 0.7 would admit; by the dearest: 1.4 − 0.5 = 0.9 < 1.0 holds.
  assert.match(reason(p.decide([cheap, dear, settling], true, { idleCores: 1.4 }, NOW)), /a job is settling/);
  assert.deepEqual(p.decide([cheap, dear, settling], true, { idleCores: 1.5 }, NOW), { action: 'admit' });
  // The settling job's own low reading (it has barely started) is not a cost: alone, it blocks.
  assert.match(reason(p.decide([settling], true, { idleCores: 2 }, NOW)), /a job is settling/);
  // Without settling jobs, one more needs 1.3 × the dearest job's cost idle.
  assert.match(reason(p.decide([cheap, dear], true, { idleCores: 0.64 }, NOW)), /0.64 idle cores < 1.3 × a job's 0.50/);
  assert.deepEqual(p.decide([cheap, dear], true, { idleCores: 0.66 }, NOW), { action: 'admit' });
});

test("a share of the cores stays idle on top of a job's cost: 10 %, at least 0.2 core", () => {
  const p = new CapacityPolicy(DEFAULT_CAPACITY);
  const settled = job('a', { cpuCores: 0.44 });
  // Two cores: 0.2 kept; one more job needs 1.3 × 0.44 = 0.572 beyond it.
  const two = (idleCores: number) => p.decide([settled], true, { idleCores, cores: 2 }, NOW);
  assert.match(reason(two(0.6)), /0.40 idle cores < 1.3 × a job's 0.44 \(0.20 more kept in reserve\)/);
  assert.deepEqual(two(0.78), { action: 'admit' });
  // Sixteen cores: 1.6 kept.
  assert.match(reason(p.decide([settled], true, { idleCores: 2.1, cores: 16 }, NOW)), /1.60 more kept in reserve/);
  assert.deepEqual(p.decide([settled], true, { idleCores: 2.2, cores: 16 }, NOW), { action: 'admit' });
  // Bursts next to settling jobs count the reserve too.
  const settling = job('s', { admittedAt: NOW - 500, speed: null });
  assert.match(reason(p.decide([settled, settling], true, { idleCores: 1.45, cores: 2 }, NOW)), /a job is settling/);
  assert.deepEqual(p.decide([settled, settling], true, { idleCores: 1.6, cores: 2 }, NOW), { action: 'admit' });
});

/** Pool options the fakes below take. */
interface FakeOptions {
  /** Progress blocks as the Supervisor emits them; without it the pool reads progress on its timer. */
  progress?: boolean;
  /** ms between two progress blocks of a child (ffmpeg: ~500 + a frame); 0: status() is always current. */
  blockMs?: number;
  capacity?: Partial<CapacityOptions>;
}

/**
 * A pool over fakes: a Supervisor whose children run in real time (frame and out_time from the fake clock, in blocks
 * of `blockMs`), a CPU sampler with a settable idle reading, and the clock and timers advanced together.
 */
function fakePool(t: TestContext, opts: FakeOptions = {}) {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let clock = 0;
  const cpu = { idle: 1.5 as number | null, samples: 0 };
  const fakeCpu = {
    idleCores: () => (cpu.samples++, cpu.idle),
    processCores: () => 0.3,
    retain: () => {},
  } as unknown as CpuSampler;
  const spawned: string[] = [];
  const removed: string[] = [];
  const listeners = new Set<(child: string, block: ChildProgress) => void>();
  const children: Array<{ name: string; at: number }> = [];
  const block = (at: number) => {
    const blockMs = opts.blockMs ?? 0;
    const media = blockMs > 0 ? Math.floor((clock - at) / blockMs) * blockMs : clock - at;
    return { frame: 1 + media / 40, outTimeMs: media };
  };
  const supervisor: PoolSpawner = {
    spawn(spec) {
      const pid = 1000 + spawned.push(spec.name);
      const child = { name: spec.name, at: clock };
      children.push(child);
      return {
        name: spec.name,
        status: () => ({
          ...{ name: spec.name, kind: 'ffmpeg', state: 'running', pid, restarts: 0, startedAt: null, lastExit: null },
          progress: block(child.at),
        }),
        logs: () => [],
        send: () => false,
        onMessage: () => () => {},
      } satisfies SupervisedChild;
    },
    remove: async (name) => {
      removed.push(name);
      children.splice(
        children.findIndex((c) => c.name === name),
        1,
      );
    },
  };
  const pool = new TranscodePool({
    supervisor,
    ffmpeg: 'ffmpeg',
    capacity: { ...DEFAULT_CAPACITY, ...opts.capacity },
    stallTimeoutMs: 5000,
    log: silentLogger(),
    onState: () => {},
    cpu: fakeCpu,
    now: () => clock,
    ...(opts.progress && {
      progress: (fn: (child: string, block: ChildProgress) => void) => (listeners.add(fn), () => listeners.delete(fn)),
    }),
  });
  /** Advances the clock in 20 ms steps: progress blocks go out when due, the pool's timer ticks every second. */
  const advance = (ms: number) => {
    for (let step = 0; step < ms / 20; step++) {
      clock += 20;
      const blockMs = opts.blockMs ?? 0;
      for (const c of children) {
        if (blockMs > 0 && (clock - c.at) % blockMs === 0) for (const fn of listeners) fn(c.name, block(c.at));
      }
      t.mock.timers.tick(20);
    }
  };
  pool.start();
  t.after(() => pool.stop());
  return { pool, cpu, spawned, removed, advance, listeners };
}

test('pool: jobs wanted together next to settled ones start together; CPU is sampled on the timer only', (t) => {
  const { pool, cpu, spawned, advance } = fakePool(t);
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

  // Little idle CPU (over the last five samples): one more, and the next one waits until it has settled.
  cpu.idle = 0.8;
  advance(5000);
  pool.want(def('e'));
  pool.want(def('f'));
  assert.deepEqual(spawned.slice(4), ['job:s/e']);
  assert.equal(state('f'), 'waiting-for-capacity');
  assert.equal(pool.get('s/f')?.reason, 'a job is settling');
});

test('pool: idle CPU is the mean of the last five seconds: a one-second spike does not start a burst', (t) => {
  const { pool, cpu, spawned, advance } = fakePool(t);
  cpu.idle = 0.3; // below 1.3 × a job's 0.3
  pool.want(def('a'));
  advance(10_000);
  for (const camera of ['b', 'c', 'd', 'e']) pool.want(def(camera));
  advance(5000);
  assert.deepEqual(spawned, ['job:s/a']);
  assert.equal(pool.get('s/b')?.reason, "0.30 idle cores < 1.3 × a job's 0.30");
  // One second with 1.9 idle cores (another process ended and the next has not started yet). Read alone, that
  // would admit b and, next to it, c, d and e (1.9 − k × 0.3 ≥ 2 × 0.3 for k ≤ 4); the mean (0.62) admits b only.
  cpu.idle = 1.9;
  advance(1000);
  cpu.idle = 0.3;
  assert.deepEqual(spawned, ['job:s/a', 'job:s/b']);
  advance(10_000);
  assert.deepEqual(spawned, ['job:s/a', 'job:s/b']);
});

test('pool: the speed of a job comes from progress blocks timed as they arrive, not as the timer reads them', async (t) => {
  // ffmpeg reports every ~520 ms (0.5 s, then the next packet); the pool's timer reads every 1000 ms.
  const speeds = async (progress: boolean) => {
    const { pool, advance } = fakePool(t, { progress, blockMs: 520 });
    pool.want(def('a'));
    const seen: number[] = [];
    for (let i = 0; i < 30; i++) {
      advance(1000);
      const speed = pool.get('s/a')?.speed;
      if (i >= 10 && speed != null) seen.push(speed);
    }
    await pool.stop();
    t.mock.timers.reset();
    return seen;
  };
  const timed = await speeds(true);
  assert.equal(timed.length, 20);
  assert.ok(
    timed.every((v) => Math.abs(v - 1) <= 0.01),
    `a real-time job reads 1 ± 0.01: ${timed.map((v) => v.toFixed(3))}`,
  );
  // The same blocks read on the timer: a block up to 0.5 s old counts as read now, and a real-time job swings.
  const polled = await speeds(false);
  assert.ok(
    polled.some((v) => Math.abs(v - 1) > 0.03),
    `read on the timer: ${polled.map((v) => v.toFixed(3))}`,
  );
});

test('pool: maxJobs lowered at run time sends the newest jobs back to waiting; every waiting job says why', async (t) => {
  const { pool, spawned, removed, advance } = fakePool(t);
  pool.want({ ...def('a'), encoderNote: 'no usable hardware h264 encoder; using libx264' });
  advance(9000);
  pool.want(def('b'));
  advance(9000);
  pool.want(def('c'));
  advance(9000);
  assert.deepEqual(spawned, ['job:s/a', 'job:s/b', 'job:s/c']);
  assert.equal(pool.get('s/a')?.encoderNote, 'no usable hardware h264 encoder; using libx264');
  assert.equal(pool.get('s/b')?.encoderNote, null);

  pool.setMaxJobs(1);
  // One shed per decision; a job is listed as waiting again once its ffmpeg is gone (the fake removes at once).
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    advance(1000);
  }
  assert.deepEqual(removed, ['job:s/c', 'job:s/b'], 'the newest first');
  assert.deepEqual(
    pool.list().map((j) => [j.camera, j.state, j.reason]),
    [
      ['a', 'running', null],
      ['b', 'waiting-for-capacity', 'max 1 jobs'],
      ['c', 'waiting-for-capacity', 'max 1 jobs'],
    ],
  );
  // Wanted again (a config change redefines every job): still waiting, and still saying why.
  pool.want(def('b'));
  assert.equal(pool.get('s/b')?.reason, 'max 1 jobs');
  advance(10_000);
  assert.equal(spawned.length, 3, 'nothing admitted above maxJobs');

  pool.setMaxJobs(3);
  advance(1000);
  // Raised again: admitted as capacity allows, here both at once (1.5 idle − 0.3 for b ≥ 2 × 0.3).
  assert.deepEqual(spawned.slice(3), ['job:s/b', 'job:s/c']);
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
