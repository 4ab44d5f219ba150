/**
 * A real ffmpeg publishes H.264 + AAC: onPublish fires, the tap delivers the sequence headers first and then
 * ~25 video tags per second with increasing timestamps, stats show codec, size, bitrate, fps and GOP; a tap added
 * late gets the cached headers and GOP first; a tap outlives the publisher and picks up its reconnect.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { RtmpStreamInfo } from '../../../app/media/rtmp/index.js';
import { waitUntil } from '../../helpers/processes.js';
import { publish, RIGHT_KEY, startIngest } from './peers.js';
import { isAacConfig, isAvcFrame, isAvcSequenceHeader, TagRecorder, type TagRecord } from './tag-recorder.js';

/** Index of the first tag matching `pred`, or -1. */
const indexOf = (tags: TagRecord[], pred: (t: TagRecord) => boolean): number => tags.findIndex(pred);

test('publish, tap (early and late), stats, unpublish, reconnect', async (t) => {
  const ingest = await startIngest(t);
  const published: RtmpStreamInfo[] = [];
  const unpublished: RtmpStreamInfo[] = [];
  ingest.onPublish((s) => published.push(s));
  ingest.onUnpublish((s) => unpublished.push(s));
  const early = new TagRecorder();
  ingest.onTag('cam1', early.listener); // before the camera publishes

  const seconds = 6;
  const ffmpeg = publish(t, ingest.port, 'cam1', RIGHT_KEY, seconds);
  await waitUntil(() => published.length === 1 || !ffmpeg.running(), 10_000, 'onPublish');
  assert.equal(published.length, 1, (await Promise.race([ffmpeg.done, sleep(0)]))?.stderr);
  assert.equal(published[0]!.app, 'live');
  assert.equal(published[0]!.name, 'cam1');
  assert.match(published[0]!.remote, /^127\.0\.0\.1:\d+$/);
  assert.equal(typeof published[0]!.id, 'string');

  await sleep(3000);
  const late = new TagRecorder();
  ingest.onTag('cam1', late.listener);
  // Delivered synchronously from NMS's caches: metadata, AAC config, AVC sequence header, then the GOP.
  const replayed = late.tags.slice();
  t.diagnostic(`late tap: ${replayed.length} cached tags replayed at subscribe`);
  assert.equal(replayed[0]?.type, 18, 'onMetaData first');
  assert.ok(isAacConfig(replayed[1]!), 'AAC config second');
  assert.ok(isAvcSequenceHeader(replayed[2]!), 'AVC sequence header third');
  const firstFrame = replayed.slice(3).find((x) => x.type === 9)!;
  assert.equal(firstFrame.b0 >> 4, 1, 'the GOP replay starts with a key frame');

  const stats = ingest.stream('cam1')!;
  t.diagnostic(`stats: ${JSON.stringify(stats)}`);
  assert.equal(stats.videoCodec, 'H264');
  assert.equal(stats.audioCodec, 'AAC');
  assert.deepEqual([stats.width, stats.height], [640, 360]);
  assert.ok(stats.bitrateKbps > 100, `bitrate ${stats.bitrateKbps}`);
  assert.ok(stats.fps > 20 && stats.fps < 30, `fps ${stats.fps}`);
  assert.equal(stats.keyframeIntervalMs, 1000);
  assert.equal(stats.gopFrames, 25);
  assert.ok(stats.bytesIn > 100_000 && stats.uptimeMs > 2500);
  assert.equal(stats.remote, published[0]!.remote);
  assert.equal(stats.players, 0, 'taps are not players');

  const result = await ffmpeg.done;
  assert.equal(result.code, 0, result.stderr);
  await waitUntil(() => unpublished.length === 1, 5000, 'onUnpublish');
  assert.deepEqual(unpublished[0], published[0]);
  assert.deepEqual(ingest.streams(), []);

  // The early tap: sequence headers before the first coded frame of each track, then real-time video.
  const tags = early.tags.slice();
  const firstVideo = indexOf(tags, isAvcFrame);
  const firstAudio = indexOf(tags, (x) => x.type === 8 && x.b1 === 1);
  assert.ok(indexOf(tags, isAvcSequenceHeader) >= 0 && indexOf(tags, isAvcSequenceHeader) < firstVideo);
  assert.ok(indexOf(tags, isAacConfig) >= 0 && indexOf(tags, isAacConfig) < firstAudio);
  const frames = early.videoFrames();
  assert.ok(Math.abs(frames.length - seconds * 25) <= 5, `${frames.length} video frames in ${seconds} s`);
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.ts > frames[i - 1]!.ts, `ts increases at ${i}`);
  const spacing = (frames[frames.length - 1]!.ts - frames[0]!.ts) / (frames.length - 1);
  assert.ok(Math.abs(spacing - 40) < 1, `mean spacing ${spacing} ms`);
  const t0 = frames[0]!.at;
  const steady = frames.filter((f) => f.at >= t0 + 1000 && f.at < t0 + 5000).length / 4;
  t.diagnostic(`early tap: ${tags.length} tags, ${frames.length} video frames, ${steady} video tags/s (wall clock)`);
  assert.ok(steady >= 22 && steady <= 28, `${steady} video tags/s`);

  // The camera reconnects: the same taps get fresh sequence headers, timestamps restart (a new publish).
  const before = early.tags.length;
  const again = publish(t, ingest.port, 'cam1', RIGHT_KEY, 2);
  await waitUntil(() => published.length === 2, 10_000, 'second onPublish');
  assert.equal((await again.done).code, 0);
  const second = early.tags.slice(before);
  assert.ok(isAvcSequenceHeader(second.find((x) => x.type === 9)!), 'new publish starts with its AVC header');
  assert.ok(second.filter(isAvcFrame).length >= 40);
  assert.ok(second.find(isAvcFrame)!.ts < 200, 'timestamps restart with the new publish');
  assert.ok(late.tags.length > replayed.length + 40);
  assert.notEqual(published[1]!.id, published[0]!.id);
});
