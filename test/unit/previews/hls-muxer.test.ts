/**
 * HlsMuxer across runs of its ffmpeg, with the files written by hand the way ffmpeg 5.1 writes them (init section,
 * then segments, then the playlist) and a fake Supervisor: per-run init sections, deletion of what ended runs left.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildSpec, ChildView } from '../../../app/supervisor/types.js';
import { HlsMuxer, type MuxerSpawner } from '../../../app/media/hls/hls-muxer.js';

class FakeSupervisor implements MuxerSpawner {
  spawned: ChildSpec[] = [];
  removed: string[] = [];
  spawn(spec: ChildSpec): ChildView {
    this.spawned.push(spec);
    return { name: spec.name, status: () => ({}) as ReturnType<ChildView['status']>, logs: () => [] };
  }
  async remove(name: string): Promise<void> {
    this.removed.push(name);
  }
}

/** Writes what one ffmpeg run has on disk: its init section (when given), segments `seqs` and its playlist of them. */
async function ffmpegWrites(dir: string, o: { init?: string; seqs: number[]; listed: number[] }): Promise<void> {
  if (o.init) writeFileSync(join(dir, 'init.mp4'), o.init);
  await sleep(5); // a later write gets a later mtime
  for (const n of o.seqs) writeFileSync(join(dir, `seg${n}.m4s`), `segment ${n}`);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${o.listed[0]}`];
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-MAP:URI="init.mp4"');
  for (const n of o.listed) lines.push('#EXTINF:1.000000,', `seg${n}.m4s`);
  writeFileSync(join(dir, 'index.m3u8'), `${lines.join('\n')}\n`);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const uris = (playlist: string) => playlist.split('\n').filter((l) => l && !l.startsWith('#'));

function start(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-hls-muxer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const supervisor = new FakeSupervisor();
  const spec: ChildSpec = { name: 'hls:f1/cam1#1', kind: 'ffmpeg', command: 'ffmpeg', args: [] };
  const muxer = new HlsMuxer('f1/cam1', join(dir, '1'), spec, supervisor, 6);
  muxer.start();
  return { dir: join(dir, '1'), muxer, supervisor };
}

test('each run keeps its own init section; ended runs’ segments are deleted once 2 newer ones slid out', async (t) => {
  const { dir, muxer, supervisor } = start(t);
  assert.equal(supervisor.spawned[0]!.cwd, dir);
  await assert.rejects(muxer.playlist(150), /no HLS playlist/);

  await ffmpegWrites(dir, { init: 'INIT-A', seqs: range(99, 104), listed: range(99, 104) });
  assert.deepEqual(
    uris(await muxer.playlist(0)),
    range(99, 104).map((n) => `seg${n}.m4s`),
  );
  await ffmpegWrites(dir, { seqs: [105], listed: range(100, 105) }); // seg99 left the list; ffmpeg keeps it a while
  assert.match(await muxer.playlist(0), /^#EXT-X-MEDIA-SEQUENCE:100$/m);

  // ffmpeg is killed and restarted: a new init section, then its first segment and its own playlist.
  await ffmpegWrites(dir, { init: 'INIT-B', seqs: [200], listed: [200] });
  const restarted = await muxer.playlist(0);
  assert.match(restarted, /^#EXT-X-MEDIA-SEQUENCE:101$/m);
  assert.match(
    restarted,
    /seg105\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"\n#EXTINF:1\.000000,\nseg200\.m4s\n$/,
  );
  assert.equal((await muxer.file('init.mp4'))?.toString(), 'INIT-A');
  assert.equal((await muxer.file('init2.mp4'))?.toString(), 'INIT-B');
  assert.equal(await muxer.size('init2.mp4'), 6);
  assert.equal(await muxer.size('seg105.m4s'), 'segment 105'.length);
  assert.equal(muxer.status().runs, 2);

  await ffmpegWrites(dir, { seqs: range(201, 204), listed: range(200, 204) });
  const later = await muxer.playlist(0);
  assert.deepEqual(uris(later), ['seg105.m4s', ...range(200, 204).map((n) => `seg${n}.m4s`)]);
  assert.match(later, /^#EXT-X-MEDIA-SEQUENCE:105$/m);
  // Listed from 105 on: 99 (the file the dead ffmpeg kept), 100-102 are deleted; 103 and 104 are within the grace.
  assert.deepEqual(
    range(99, 105).filter((n) => existsSync(join(dir, `seg${n}.m4s`))),
    [103, 104, 105],
  );
  await ffmpegWrites(dir, { seqs: range(205, 207), listed: range(202, 207) });
  assert.match(await muxer.playlist(0), /^#EXT-X-MEDIA-SEQUENCE:108$/m);
  assert.deepEqual(
    range(99, 105).filter((n) => existsSync(join(dir, `seg${n}.m4s`))),
    [],
  );
  assert.equal(await muxer.file('init.mp4'), null, 'run 1 left the window');
  assert.ok(existsSync(join(dir, 'seg200.m4s')), 'the running ffmpeg deletes its own segments');

  await muxer.stop();
  assert.deepEqual(supervisor.removed, ['hls:f1/cam1#1']);
  assert.equal(existsSync(dir), false);
});

test('a run whose init section was already overwritten by a later run is skipped, not served with it', async (t) => {
  const { dir, muxer } = start(t);
  await ffmpegWrites(dir, { init: 'INIT-A', seqs: [100], listed: [100] });
  await muxer.playlist(0);
  // Run 2 wrote a segment and its playlist, and died; run 3 has written its init section but no playlist yet.
  await ffmpegWrites(dir, { init: 'INIT-B', seqs: [200], listed: [200] });
  await sleep(5);
  writeFileSync(join(dir, 'init.mp4'), 'INIT-C');
  assert.deepEqual(uris(await muxer.playlist(0)), ['seg100.m4s'], 'run 2 cannot be served');
  await ffmpegWrites(dir, { seqs: [300], listed: [300] });
  const text = await muxer.playlist(0);
  assert.deepEqual(uris(text), ['seg100.m4s', 'seg300.m4s']);
  assert.match(text, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"\n#EXTINF:1\.000000,\nseg300\.m4s/);
  assert.equal((await muxer.file('init2.mp4'))?.toString(), 'INIT-C');
  await muxer.stop();
});

test('the same run read after more than a window of segments is no new run (its init section is unchanged)', async (t) => {
  const { dir, muxer } = start(t);
  await ffmpegWrites(dir, { init: 'INIT-A', seqs: range(100, 105), listed: range(100, 105) });
  await muxer.playlist(0);
  await ffmpegWrites(dir, { seqs: range(106, 115), listed: range(110, 115) });
  const text = await muxer.playlist(0);
  assert.match(text, /^#EXT-X-MEDIA-SEQUENCE:110$/m);
  assert.doesNotMatch(text, /DISCONTINUITY/);
  assert.equal(text.match(/#EXT-X-MAP:URI="init\.mp4"/g)?.length, 1);
  assert.equal(muxer.status().runs, 1);
  await muxer.stop();
});
