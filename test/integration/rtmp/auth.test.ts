/**
 * Publish auth with real ffmpeg publishers: a wrong key, an unknown camera and a wrong app are refused within 1 s
 * of the connection (ffmpeg exits non-zero, counters.refused counts them); no key ever reaches a log line; play is
 * refused while allowPlay is false.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitUntil } from '../../helpers/processes.js';
import { captureLog, FFMPEG, publishArgs, RIGHT_KEY, spawnPeer, startIngest } from './peers.js';
import { RawRtmpClient } from './raw-rtmp-client.js';

const WRONG_KEY = 'WRONG-key-93ad';

test('wrong key, unknown camera, wrong app: refused within 1 s, counted, keys never logged', async (t) => {
  const { log, lines } = captureLog();
  const consoleLines: string[] = [];
  const consoleLog = console.log;
  console.log = (...args: unknown[]) => void consoleLines.push(args.map(String).join(' '));
  t.after(() => (console.log = consoleLog));
  const ingest = await startIngest(t, { log });
  const base = `rtmp://127.0.0.1:${ingest.port}`;
  const cases = [
    ['wrong key', `${base}/live/cam1?key=${WRONG_KEY}`],
    ['unknown camera', `${base}/live/cam9?key=${RIGHT_KEY}`],
    ['no key', `${base}/live/cam1`],
    ['wrong app', `${base}/other/cam1?key=${RIGHT_KEY}`],
  ] as const;
  for (const [what, url] of cases) {
    const before = ingest.counters;
    const peer = spawnPeer(t, FFMPEG, publishArgs(url));
    // From the server's point of view: connection accepted → peer gone.
    await waitUntil(() => ingest.counters.connections > before.connections || !peer.running(), 10_000, 'connect');
    const accepted = performance.now();
    const result = await peer.done;
    const ms = performance.now() - accepted;
    t.diagnostic(`${what}: ffmpeg exited ${result.code} ${Math.round(ms)} ms after the connection was accepted`);
    assert.notEqual(result.code, 0, what);
    assert.match(result.stderr, /refused/, what);
    assert.ok(ms < 1000, `${what}: ${ms} ms`);
    assert.equal(ingest.counters.refused, before.refused + 1, what);
  }
  assert.equal(ingest.counters.published, 0);

  // The same through a raw client, timed from the publish command to the server closing the connection.
  const raw = await RawRtmpClient.open(t, ingest.port);
  await raw.handshake();
  raw.connect('live', `${base}/live`);
  const sent = performance.now();
  raw.publish(`cam1?key=${WRONG_KEY}`);
  assert.equal(await raw.waitClosed(2000), true);
  const closedMs = performance.now() - sent;
  t.diagnostic(`raw client: closed ${Math.round(closedMs)} ms after publish`);
  assert.ok(closedMs < 1000);
  assert.match(raw.text(), /NetStream\.Publish\.BadName/);
  assert.doesNotMatch(raw.text(), /NetStream\.Publish\.Start/, 'refused before NMS answers Publish.Start');
  assert.equal(ingest.counters.refused, cases.length + 1);

  const everything = [...lines, ...consoleLines].join('\n');
  assert.ok(lines.some((l) => l.includes('RTMP publish refused')));
  assert.equal(everything.includes(WRONG_KEY), false, 'the wrong key was logged');
  assert.equal(everything.includes(RIGHT_KEY), false, 'the right key was logged');
  assert.deepEqual(consoleLines, [], 'NMS printed to the console');
});

test('play is refused when allowPlay is false', async (t) => {
  const ingest = await startIngest(t);
  const reader = spawnPeer(t, FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', `rtmp://127.0.0.1:${ingest.port}/live/cam1`],
    ...['-t', '1', '-f', 'null', '-'],
  ]);
  const result = await reader.done;
  assert.notEqual(result.code, 0);
  assert.equal(ingest.counters.playsRefused, 1);
  const raw = await RawRtmpClient.open(t, ingest.port);
  await raw.handshake();
  raw.connect('live', `rtmp://127.0.0.1:${ingest.port}/live`);
  raw.play('cam1');
  assert.equal(await raw.waitClosed(2000), true);
  assert.match(raw.text(), /NetStream\.Play\.Failed/);
  assert.equal(ingest.counters.playsRefused, 2);
});
