import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveWindow, parseMuxerPlaylist, runOfInit, type ListedSegment } from '../../../app/media/hls/live-window.js';

/** ffmpeg's playlist (as 5.1 writes it) listing `seg<first>.m4s`… `seg<first+n-1>.m4s`. */
function ffmpegPlaylist(first: number, n: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${first}`];
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-MAP:URI="init.mp4"');
  for (let i = first; i < first + n; i++) {
    lines.push(
      '#EXTINF:1.000000,',
      `#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:${String(i % 60).padStart(2, '0')}.000+0000`,
    );
    lines.push(`seg${i}.m4s`);
  }
  return `${lines.join('\n')}\n`;
}

const listed = (first: number, n: number): ListedSegment[] => parseMuxerPlaylist(ffmpegPlaylist(first, n));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** What a player reads from a served playlist: per segment, its media sequence and discontinuity numbers and init. */
function playerView(text: string): Array<{ msn: number; dsn: number; uri: string; map: string }> {
  let msn = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(text)![1]);
  let dsn = Number(/^#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)$/m.exec(text)?.[1] ?? 0);
  let map = '';
  const out: Array<{ msn: number; dsn: number; uri: string; map: string }> = [];
  for (const line of text.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') dsn += 1;
    else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]+)"/.exec(line)![1]!;
    else if (line && !line.startsWith('#')) out.push({ msn: msn++, dsn, uri: line, map });
  }
  return out;
}

test('parseMuxerPlaylist: URIs, sequence numbers, durations and date-times in order', () => {
  const segs = listed(100, 3);
  assert.deepEqual(
    segs.map((s) => [s.uri, s.seq, s.duration]),
    [
      ['seg100.m4s', 100, '1.000000'],
      ['seg101.m4s', 101, '1.000000'],
      ['seg102.m4s', 102, '1.000000'],
    ],
  );
  assert.equal(segs[0]!.dateTime, '2025-01-01T00:00:40.000+0000');
  assert.deepEqual(parseMuxerPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:1\n'), []);
});

test('one run: the window follows ffmpeg, sequence numbers are ffmpeg’s, one EXT-X-MAP, no discontinuity', () => {
  const w = new LiveWindow(6);
  assert.equal(w.render(), null);
  assert.equal(w.continues(listed(100, 2)), false);
  w.merge(listed(100, 2), true);
  assert.equal(w.continues(listed(100, 3)), true);
  assert.deepEqual(w.merge(listed(100, 3), false), []);
  for (let n = 101; n <= 104; n++) w.merge(listed(n, 6), false); // ffmpeg's list slides: 104…109
  const text = w.render()!;
  assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:104\n/);
  assert.doesNotMatch(text, /DISCONTINUITY/);
  assert.equal(text.match(/#EXT-X-MAP:/g)?.length, 1);
  assert.deepEqual(
    playerView(text).map((s) => [s.msn, s.uri, s.map]),
    [104, 105, 106, 107, 108, 109].map((n) => [n, `seg${n}.m4s`, 'init.mp4']),
  );
  assert.match(text, /^#EXTINF:1\.000000,\n#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:44\.000\+0000\nseg104\.m4s$/m);
});

test('a restart: numbers keep growing by one, a discontinuity and the new init before the new run', () => {
  const w = new LiveWindow(6);
  w.merge(listed(100, 6), true); // seg100…seg105, msn 100…105
  // The dead run's playlist stays on disk until the new run writes its own: nothing changes.
  assert.deepEqual(w.merge(listed(100, 6), false), []);
  assert.match(w.render()!, /^#EXT-X-MEDIA-SEQUENCE:100$/m);
  // The new ffmpeg numbers from its own epoch second, which may even be the next number, or an earlier one.
  for (const first of [106, 140, 90]) {
    const v = new LiveWindow(6);
    v.merge(listed(100, 6), true);
    assert.equal(v.continues(listed(first, 1)), false, `new run starting at ${first}`);
    const dropped = v.merge(listed(first, 1), true);
    assert.deepEqual(
      dropped.map((e) => e.uri),
      ['seg100.m4s'],
    );
    const view = playerView(v.render()!);
    assert.deepEqual(
      view.map((s) => [s.msn, s.dsn, s.map]),
      [
        [101, 0, 'init.mp4'],
        [102, 0, 'init.mp4'],
        [103, 0, 'init.mp4'],
        [104, 0, 'init.mp4'],
        [105, 0, 'init.mp4'],
        [106, 1, 'init2.mp4'],
      ],
    );
    assert.equal(view.at(-1)!.uri, `seg${first}.m4s`);
    assert.match(v.render()!, /seg105\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"\n#EXTINF:/);
  }
});

test('the discontinuity slides out: its tag stays on the first segment, then the discontinuity sequence counts it', () => {
  const w = new LiveWindow(3);
  w.merge(listed(100, 3), true); // msn 100-102, run 1
  w.merge(listed(500, 1), true); // msn 103, run 2
  const views: Array<ReturnType<typeof playerView>> = [playerView(w.render()!)];
  for (let n = 2; n <= 4; n++) {
    w.merge(listed(500, n), false);
    views.push(playerView(w.render()!));
  }
  // Every segment keeps its media sequence number, discontinuity number and init across reloads.
  const bySeq = new Map<number, string>();
  for (const view of views) {
    for (const s of view) {
      const key = `${s.uri}|${s.dsn}|${s.map}`;
      assert.equal(bySeq.get(s.msn) ?? key, key, `segment ${s.msn} changed between reloads`);
      bySeq.set(s.msn, key);
    }
  }
  const last = w.render()!;
  assert.match(last, /^#EXT-X-MEDIA-SEQUENCE:104$/m);
  assert.match(last, /^#EXT-X-DISCONTINUITY-SEQUENCE:1$/m);
  assert.doesNotMatch(last, /^#EXT-X-DISCONTINUITY$/m);
  assert.deepEqual(
    playerView(last).map((s) => [s.msn, s.dsn, s.map, s.uri]),
    [
      [104, 1, 'init2.mp4', 'seg501.m4s'],
      [105, 1, 'init2.mp4', 'seg502.m4s'],
      [106, 1, 'init2.mp4', 'seg503.m4s'],
    ],
  );
  // While the first segment of run 2 was the first listed, its tag stayed and the sequence was still 0.
  const tagged = views.find((v) => v[0]!.uri === 'seg500.m4s')!;
  assert.deepEqual([tagged[0]!.msn, tagged[0]!.dsn], [103, 1]);
});

test('a run read after more than a window of segments: the numbers jump with ffmpeg’s, no discontinuity', () => {
  const w = new LiveWindow(6);
  w.merge(listed(100, 6), true);
  const dropped = w.merge(listed(110, 6), false);
  assert.deepEqual(
    dropped.map((e) => e.msn),
    [100, 101, 102, 103, 104, 105],
  );
  const text = w.render()!;
  assert.match(text, /^#EXT-X-MEDIA-SEQUENCE:110$/m);
  assert.doesNotMatch(text, /DISCONTINUITY/);
  assert.deepEqual(
    playerView(text).map((s) => [s.msn, s.uri]),
    range(110, 115).map((n) => [n, `seg${n}.m4s`]),
  );
});

test('target duration never shrinks; runOfInit reads only served init names', () => {
  const w = new LiveWindow(2);
  w.merge(parseMuxerPlaylist('#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:4.000000,\nseg1.m4s\n'), true);
  w.merge(
    parseMuxerPlaylist('#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:4.000000,\nseg1.m4s\n#EXTINF:1.000000,\nseg2.m4s\n'),
    false,
  );
  w.merge(
    parseMuxerPlaylist('#EXT-X-MEDIA-SEQUENCE:2\n#EXTINF:1.000000,\nseg2.m4s\n#EXTINF:1.000000,\nseg3.m4s\n'),
    false,
  );
  assert.match(w.render()!, /^#EXT-X-TARGETDURATION:4$/m);
  assert.equal(runOfInit('init12.mp4'), 12);
  assert.equal(runOfInit('init.mp4'), 1);
  assert.equal(runOfInit('init1.mp4'), null, 'one name per run');
  assert.equal(runOfInit('init0.mp4'), null);
  assert.equal(runOfInit('init2.mp4.bak'), null);
  assert.equal(runOfInit('../init2.mp4'), null);
});
