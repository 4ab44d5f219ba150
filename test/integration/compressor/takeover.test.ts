/**
 * Two compressors on one slave with four cameras: each camera is transcoded exactly once, the leases split between
 * the two, and when one compressor dies (kill -9 of a real `cupola serve` process) the other takes its cameras over
 * and all four F2 streams are live again within 10 s.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { CameraLease } from '../../../app/defs/camera.js';
import type { BusEvent } from '../../../app/defs/events.js';
import type { SlavePeerState } from '../../../app/defs/peer.js';
import { checkBuild } from '../../helpers/core.js';
import { api, until } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import { FFMPEG, spawnPeer } from '../rtsp/peers.js';
import { addCamera, rtmpPushArgs, startSlave, waitOnline, type Slave } from '../slave/slave.js';
import {
  ffmpegsReading,
  jobs,
  onlineSince,
  runningCameras,
  sleep,
  spawnCompressor,
  startCompressor,
  untilJobs,
} from './fixture.js';

before(checkBuild);

async function leases(s: Slave): Promise<CameraLease[]> {
  return ((await api(s.tc.url, '/api/v1/leases', { token: s.admin })).json as { leases: CameraLease[] }).leases;
}

/** `{ holder: [cameras] }` from the slave's leases. */
async function holders(s: Slave): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const l of await leases(s)) (out[l.holder] ??= []).push(l.cameraId);
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** Publishes the 640x360 reference camera to each of `cameras` and waits until F1 serves them. */
async function publish(
  t: { after(fn: () => unknown): void },
  s: Slave,
  grants: Map<string, string>,
  cameras: string[],
) {
  for (const id of cameras) spawnPeer(t, FFMPEG, rtmpPushArgs(grants.get(id)!));
  for (const id of cameras) await waitOnline(s, 'f1', id, 20_000);
}

const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b);

test('two compressors split four cameras; after kill -9 of one, the other runs all four within 10 s', async (t) => {
  const s = await startSlave(t);
  const cams = ['cam1', 'cam2', 'cam3', 'cam4'];
  const grants = new Map<string, string>();
  for (const id of cams) grants.set(id, (await addCamera(s, id)).publishUrl);
  await sleep(200);

  // comp-p (a process, to be killed) starts with two cameras online and takes both.
  await publish(t, s, grants, ['cam1', 'cam2']);
  const p = await spawnCompressor(t, s, 'comp-p');
  await untilJobs(async () => same(await runningCameras(p), ['cam1', 'cam2']), 45_000, 'comp-p runs cam1, cam2', { p });
  // comp-a (in this process) joins: those two are someone else's.
  const a = await startCompressor(t, s, 'comp-a');
  await until(
    async () => {
      const { links: peers } = (await api(a.url, '/api/v1/peers', { token: a.admin })).json as {
        links: SlavePeerState[];
      };
      return peers[0]?.state === 'online';
    },
    20_000,
    'comp-a linked to the slave',
  );
  await sleep(3000); // a claim round or two: refused, the leases are comp-p's
  assert.deepEqual(await runningCameras(a), []);
  assert.deepEqual(await holders(s), { 'comp-p': ['cam1', 'cam2'] });
  // Two more cameras come online while both compressors run: the one with fewer jobs should take them.
  await publish(t, s, grants, ['cam3', 'cam4']);
  const both = async () => [...(await runningCameras(p)), ...(await runningCameras(a))].sort();
  await untilJobs(async () => same(await both(), cams), 45_000, 'the four cameras running', { p, a });

  // Exactly once, for a while: no camera on both, one ffmpeg per camera reading F1, every lease held by a runner.
  for (let i = 0; i < 5; i++) {
    const [onP, onA] = [await runningCameras(p), await runningCameras(a)];
    assert.deepEqual([...onP, ...onA].sort(), cams, `running: comp-p ${onP}, comp-a ${onA}`);
    assert.equal(ffmpegsReading(s.media.f1Port).length, 4, 'one job ffmpeg per camera');
    assert.deepEqual(await holders(s), { 'comp-a': onA, 'comp-p': onP });
    await sleep(1000);
  }
  const split = await holders(s);
  t.diagnostic(`leases: comp-p ${split['comp-p']}, comp-a ${split['comp-a']}`);
  assert.deepEqual(split, { 'comp-a': ['cam3', 'cam4'], 'comp-p': ['cam1', 'cam2'] }, 'split between the two');

  // kill -9 of comp-p: its ffmpeg children die with it (PDEATHSIG), so F2 of its cameras goes offline at once.
  const from = s.events.length;
  const killedAt = performance.now();
  const killedWall = Date.now();
  p.proc.child.kill('SIGKILL');
  await p.proc.exited;
  await waitUntil(
    () => !onlineSince(s, 'f2', 'cam1', from) && !onlineSince(s, 'f2', 'cam2', from),
    5000,
    'F2 of cam1 and cam2 offline',
  );
  t.diagnostic(`F2 of comp-p's cameras offline ${Math.round(performance.now() - killedAt)} ms after the kill`);

  // Back: comp-a runs all four and the slave has all four F2 online.
  const live = () => cams.every((c) => onlineSince(s, 'f2', c, c === 'cam1' || c === 'cam2' ? from : 0));
  const all = async () => live() && same(await runningCameras(a), cams);
  await untilJobs(all, 30_000, 'comp-a runs all four, F2 live', { a });
  const takeoverMs = Math.round(performance.now() - killedAt);
  const view = await jobs(a);
  t.diagnostic(`takeover: all four F2 live on comp-a ${takeoverMs} ms after kill -9 of comp-p`);
  // Where the time went: lease expiry and claim (slave), job start (comp-a), F2 online (slave).
  const at = (e: BusEvent) => `${Math.round(Date.parse(e.time) - killedWall)}`;
  const steps = [...s.events.slice(from), ...a.events.filter((e) => Date.parse(e.time) >= killedWall)]
    .filter((e) => {
      const d = e.data as { cameraId?: string; camera?: string; path?: string; name?: string; plane?: string };
      const cam = d.cameraId ?? d.camera ?? d.path ?? d.name?.replace('job:site-a/', '');
      if (cam !== 'cam1' && cam !== 'cam2') return false;
      return /^lease\.|^job\.state|^child\.started/.test(e.type) || (e.type === 'stream.online' && d.plane === 'f2');
    })
    .sort((x, y) => Date.parse(x.time) - Date.parse(y.time))
    .map((e) => {
      const d = e.data as { cameraId?: string; camera?: string; path?: string; name?: string; state?: string };
      return `${at(e)} ${e.type} ${d.cameraId ?? d.camera ?? d.path ?? d.name}${d.state ? ` ${d.state}` : ''}`;
    });
  t.diagnostic(`after the kill (ms): ${steps.join('; ')}`);
  t.diagnostic(`comp-a jobs: ${view.map((j) => `${j.camera} ${j.state} cpu ${j.cpuCores?.toFixed(2)}`).join(', ')}`);
  assert.ok(takeoverMs <= 10_000, `takeover took ${takeoverMs} ms (want ≤ 10000)`);
  assert.deepEqual(await holders(s), { 'comp-a': cams });
  assert.equal(ffmpegsReading(s.media.f1Port).length, 4, 'comp-p left no ffmpeg behind');
  assert.deepEqual(
    ffmpegsReading(s.media.f1Port)
      .map((x) => x.pid)
      .sort(),
    view.map((j) => j.pid).sort(),
    'the four ffmpeg are comp-a jobs',
  );
});
