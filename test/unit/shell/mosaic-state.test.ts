/** Pure parts of the mosaic: which tiles a node shows, paging, retry delays, prefs, news, and the start queue. */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { Camera } from '../../../app/defs/camera.js';
import type { BusEvent } from '../../../app/defs/events.js';
import { StartQueue } from '../../../renderer/src/player/start-queue.js';
import {
  mosaicNews,
  mosaicSources,
  pageCount,
  pageOf,
  parsePrefs,
  retryDelayMs,
  type RelayRow,
  type StreamRow,
} from '../../../renderer/src/state/mosaic.js';

const camera = (id: string, site: string, name: string, enabled = true): Camera =>
  ({ id, site, name, enabled, source: 'rtmp-push' }) as unknown as Camera;
const relay = (site: string, cam: string, plane: 'f1' | 'f2', state: string | null): RelayRow => ({
  site,
  camera: cam,
  plane,
  path: `${site}/${cam}`,
  state,
});
const stream = (plane: 'f1' | 'f2', path: string, live = true): StreamRow => ({
  plane,
  stats: { path, publisher: live ? { remote: 'internal', transport: 'internal' } : null },
});

test("a master's relays: one tile per camera, the chosen feed when it plays, else the other one flagged", () => {
  const relays = [
    relay('north', 'gate', 'f1', 'playing'),
    relay('north', 'gate', 'f2', 'playing'),
    relay('north', 'dock', 'f1', 'playing'),
    relay('north', 'dock', 'f2', 'backoff'),
    relay('east', 'yard', 'f1', 'backoff'),
    relay('east', 'yard', 'f2', null),
  ];
  const tiles = mosaicSources({ relays, cameras: null, streams: [] }, 'f2');
  assert.deepEqual(
    tiles.map((t) => [t.key, t.fallback, t.online]),
    [
      ['f2/east/yard', false, false],
      ['f1/north/dock', true, true],
      ['f2/north/gate', false, true],
    ],
    'sorted by site then camera; dock has no F2 playing, so F1 flagged; yard has nothing, so F2 offline',
  );
  const f1 = mosaicSources({ relays, cameras: null, streams: [] }, 'f1');
  assert.deepEqual(
    f1.map((t) => t.key),
    ['f1/east/yard', 'f1/north/dock', 'f1/north/gate'],
  );
});

test("a slave's enabled cameras by name; a node with both roles does not show its own cameras twice", () => {
  const cameras = [camera('cam-1', 'north', 'Gate'), camera('cam-2', 'north', 'Off', false)];
  const streams = [stream('f1', 'cam-1'), stream('f2', 'cam-1', false), stream('f2', 'north/other')];
  const relays = [relay('north', 'cam-1', 'f2', 'playing'), relay('north', 'other', 'f2', 'backoff')];
  const tiles = mosaicSources({ relays, cameras, streams }, 'f2');
  assert.deepEqual(
    tiles.map((t) => [t.key, t.camera, t.fallback, t.online]),
    [
      ['f1/cam-1', 'Gate', true, true],
      ['f2/north/other', 'other', false, true],
    ],
    'cam-1 from the local path (its F2 has no publisher: F1 flagged), no relay copy; a served relay path is online',
  );
});

test('pages are clamped into range; a list never has zero pages', () => {
  const list = Array.from({ length: 10 }, (_, i) => i);
  assert.equal(pageCount(10, 4), 3);
  assert.equal(pageCount(0, 4), 1);
  assert.deepEqual(pageOf(list, 4, 2), [8, 9]);
  assert.deepEqual(pageOf(list, 4, 9), [8, 9]);
  assert.deepEqual(pageOf(list, 4, -1), [0, 1, 2, 3]);
});

test('retry delays double from 1 s to 30 s, within ±20 %', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 40].map((n) => retryDelayMs(n, () => 0.5)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.equal(
    retryDelayMs(0, () => 0),
    800,
  );
  assert.equal(
    retryDelayMs(9, () => 1),
    36000,
  );
});

test('stored prefs: anything unreadable falls back field by field', () => {
  assert.deepEqual(parsePrefs('{"grid":9,"feed":"f1"}'), { grid: 9, feed: 'f1' });
  assert.deepEqual(parsePrefs('{"grid":5,"feed":"f1"}'), { grid: 4, feed: 'f1' });
  assert.deepEqual(parsePrefs('not json'), { grid: 4, feed: 'f2' });
  assert.deepEqual(parsePrefs(null), { grid: 4, feed: 'f2' });
});

test('news: only events newer than the last seen; stream.online names its tile', () => {
  const ev = (id: number, type: string, data: unknown = {}) => ({ id, type, time: '', data }) as unknown as BusEvent;
  const before = [ev(2, 'auth.token-created'), ev(1, 'stream.online', { plane: 'f2', path: 'old' })];
  const now = [ev(4, 'stream.online', { plane: 'f1', path: 'north/gate' }), ev(3, 'peer.health'), ...before];
  assert.deepEqual(mosaicNews(now, before), { online: ['f1/north/gate'], reload: true });
  assert.deepEqual(mosaicNews(before, before), { online: [], reload: false });
  assert.deepEqual(mosaicNews([ev(5, 'peer.health'), ...now], now), { online: [], reload: false });
});

test('the start queue: one turn at a time, the next when the tile is done or after the gap; withdrawals', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const started: string[] = [];
    const queue = new StartQueue(4000);
    const doneA = queue.request(() => started.push('a'));
    queue.request(() => started.push('b'));
    const withdrawC = queue.request(() => started.push('c'));
    queue.request(() => started.push('d'));
    assert.deepEqual(started, ['a'], 'only the first starts at once');
    doneA();
    mock.timers.tick(0);
    assert.deepEqual(started, ['a', 'b'], 'the next one as soon as the first is done');
    withdrawC();
    mock.timers.tick(3999);
    assert.deepEqual(started, ['a', 'b'], 'b still has its turn');
    mock.timers.tick(1);
    mock.timers.tick(0);
    assert.deepEqual(started, ['a', 'b', 'd'], 'after the gap; the withdrawn c never starts');
    queue.clear();
    assert.equal(queue.busy, false);
    queue.request(() => started.push('e'));
    assert.deepEqual(started.at(-1), 'e', 'usable after clear()');
  } finally {
    mock.timers.reset();
  }
});
