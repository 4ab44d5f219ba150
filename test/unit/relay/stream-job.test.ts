/**
 * A job planned without a probe asks for one when ffmpeg ends, and runs the probed plan instead; a job given up on
 * starts anew (fake spawner; real store and ffprobe in the controller's case).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { relaySchema } from '../../../app/config/relay.js';
import { EventBus } from '../../../app/events/bus.js';
import { silentLogger } from '../../../app/log/logger.js';
import { RelayController } from '../../../app/relay/controller.js';
import { Store } from '../../../app/store/store.js';
import type { ChildState, ChildStatus } from '../../../app/defs/child.js';
import type { BusEvent } from '../../../app/defs/events.js';
import { StreamJob, type JobPlan, type JobSpawner } from '../../../app/relay/stream-job.js';
import type { ChildSpec, SupervisedChild } from '../../../app/supervisor/types.js';

/** Records what the job spawns and removes; removal can be held to test what happens meanwhile. */
class FakeSpawner implements JobSpawner {
  readonly spawned: ChildSpec[] = [];
  readonly removed: string[] = [];
  readonly states = new Map<string, ChildState>();
  hold: Promise<void> | null = null;

  spawn(spec: ChildSpec): SupervisedChild {
    this.spawned.push(spec);
    this.states.set(spec.name, 'running');
    const status = (): ChildStatus => ({
      name: spec.name,
      kind: 'ffmpeg',
      state: this.states.get(spec.name) ?? 'stopped',
      pid: null,
      restarts: 0,
      startedAt: null,
      lastExit: null,
      progress: null,
    });
    return {
      name: spec.name,
      status,
      logs: () => ['Connection refused'],
      send: () => false,
      onMessage: () => () => {},
    };
  }

  async remove(name: string): Promise<void> {
    await this.hold;
    this.removed.push(name);
    this.states.set(name, 'stopped');
  }

  /** The names of the children not removed. */
  live(): string[] {
    return this.spawned.map((s) => s.name).filter((n) => !this.removed.includes(n));
  }
}

const restarting = (name: string, attempt = 1): BusEvent =>
  ({ id: 0, type: 'child.restarting', time: '', data: { name, attempt, delayMs: 300 } }) as BusEvent;
const guessed: JobPlan = {
  command: 'ffmpeg',
  args: ['-i', 'rtsp://cam/x', '-c:v', 'copy', 'rtmp://h/live/k'],
  autoRestart: true,
  unprobed: true,
};
const probed: JobPlan = {
  ...guessed,
  args: ['-i', 'rtsp://cam/x', '-c:v', 'libx264', 'rtmp://h/live/k'],
  unprobed: false,
};

function setup() {
  const spawner = new FakeSpawner();
  let asked = 0;
  const states: string[] = [];
  const job = new StreamJob('cam', spawner, {
    state: (s) => void states.push(s),
    log: () => {},
    reprobe: () => void asked++,
  });
  return { spawner, job, states, asked: () => asked };
}

test('an unprobed job asks for a probe at every restart; a probed one never does', () => {
  const { spawner, job, asked } = setup();
  job.start(guessed);
  assert.equal(job.unprobed, true);
  assert.ok(job.runs('rtsp://cam/x', 'rtmp://h/live/k') && !job.runs('rtsp://cam/y', 'rtmp://h/live/k'));
  job.onChildEvent(restarting(spawner.spawned[0]!.name, 1));
  job.onChildEvent(restarting(spawner.spawned[0]!.name, 2));
  job.onChildEvent(restarting('relay-other-1'));
  assert.equal(asked(), 2);

  const other = setup();
  other.job.start(probed);
  other.job.onChildEvent(restarting(other.spawner.spawned[0]!.name));
  assert.equal(other.asked(), 0);
});

test('the probed plan replaces the guessed child: the old one goes first, the new one runs the new argv', async () => {
  const { spawner, job, states } = setup();
  job.start(guessed);
  const first = spawner.spawned[0]!.name;
  assert.equal(await job.replan(probed), true);
  assert.deepEqual(spawner.removed, [first]);
  assert.equal(spawner.spawned.length, 2);
  assert.deepEqual(spawner.spawned[1]!.args, probed.args);
  assert.equal(spawner.spawned[1]!.restart, 'always');
  assert.deepEqual(spawner.live(), [spawner.spawned[1]!.name]);
  assert.equal(states.at(-1), 'starting');
  assert.equal(job.unprobed, false);
  assert.equal(await job.replan(probed), false, 'a probed job is not replanned again');
  assert.equal(spawner.spawned.length, 2);
});

test('a probe that confirms the guess changes nothing but marks the job probed', async () => {
  const { spawner, job } = setup();
  job.start(guessed);
  assert.equal(await job.replan({ ...guessed, unprobed: false }), false);
  assert.equal(spawner.spawned.length, 1);
  assert.deepEqual(spawner.removed, []);
  assert.equal(job.unprobed, false);
});

test('a guessed child that forwards video by now is left alone', async () => {
  const { spawner, job } = setup();
  job.start(guessed);
  const progress = {
    id: 0,
    type: 'child.progress',
    time: '',
    data: { name: spawner.spawned[0]!.name, progress: { frame: 5 } },
  };
  job.onChildEvent(progress as BusEvent);
  assert.equal(await job.replan(probed), false);
  assert.equal(spawner.spawned.length, 1);
  assert.equal(job.unprobed, false);
});

test('stopped while the guessed child is being removed: no new child', async () => {
  const { spawner, job } = setup();
  job.start(guessed);
  let release = () => {};
  spawner.hold = new Promise((r) => (release = r));
  const replanned = job.replan(probed);
  const stopped = job.stop('node stopping');
  release();
  assert.equal(await replanned, false);
  await stopped;
  assert.deepEqual(spawner.live(), []);
  assert.equal(job.active, false);
});

test('start runs a job the Supervisor gave up on anew, probing its source again (real ffprobe, source down)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-relay-'));
  const store = new Store(dir);
  store.start();
  t.after(() => {
    store.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const spawner = new FakeSpawner();
  const relay = new RelayController({
    config: () => relaySchema.parse({}),
    store,
    supervisor: spawner,
    bus: new EventBus(),
    log: silentLogger(),
    ffmpeg: () => 'ffmpeg',
    ffprobe: () => 'ffprobe',
  });
  store.relayStreams.insert({
    id: 'cam',
    name: 'cam',
    rtsp_url: 'rtsp://127.0.0.1:1/down',
    rtmp_url: 'rtmp://127.0.0.1:1/live/k',
    preset: 'auto',
    ffmpeg_params: null,
    auto_restart: 0,
    enabled: 1,
    status: 'stopped',
    last_update_at: null,
  });
  const row = store.relayStreams.get('cam')!;
  await relay.startJob(row);
  assert.equal(spawner.spawned.length, 1);
  assert.equal(spawner.spawned[0]!.restart, 'never');
  const probes = () => store.streamLogs.recent('cam', 100).filter((l) => /source probe failed/.test(l.message)).length;
  assert.equal(probes(), 1);
  await relay.startJob(row);
  assert.equal(spawner.spawned.length, 1, 'a running job is left alone');
  spawner.states.set(spawner.spawned[0]!.name, 'gave-up');
  await relay.startJob(row);
  assert.deepEqual(spawner.removed, [spawner.spawned[0]!.name]);
  assert.equal(spawner.spawned.length, 2, 'started anew');
  assert.equal(probes(), 2, 'with a new probe of the source');
  await relay.stop();
  assert.deepEqual(spawner.live(), []);
});
