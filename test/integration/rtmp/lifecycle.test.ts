/**
 * Start and stop: a taken port rejects start() with a clear message and the process stays up (NMS would exit);
 * a second ingest in one process is refused (NMS has one global context); stop() closes the listener, publishers,
 * players, half-open connections and taps, and leaves nothing open: the host process then exits on its own.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RtmpStreamInfo } from '../../../app/media/rtmp/index.js';
import { RtmpIngest } from '../../../app/media/rtmp/index.js';
import { silentLogger } from '../../../app/log/logger.js';
import { waitUntil } from '../../helpers/processes.js';
import { publish, RIGHT_KEY, startHost, startIngest, waitFlowing } from './peers.js';
import { RawRtmpClient } from './raw-rtmp-client.js';

const options = { port: 0, host: '127.0.0.1', log: silentLogger(), authorizePublish: () => true };

test('a taken port rejects start() with a clear message; the process stays up; a retry can succeed', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as AddressInfo).port;
  const ingest = new RtmpIngest({ ...options, port });
  t.after(() => ingest.stop());
  await assert.rejects(ingest.start(), {
    message: `RTMP: port 127.0.0.1:${port} is already in use`,
    code: 'EADDRINUSE',
  });
  await sleep(100); // NMS's listener would have called process.exit(1) by now
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  await ingest.start();
  assert.equal(ingest.port, port);
});

test('one ingest per process: a second start() is refused until the first one stops', async (t) => {
  const first = await startIngest(t);
  const second = new RtmpIngest(options);
  t.after(() => second.stop());
  await assert.rejects(second.start(), /another RtmpIngest runs in this process/);
  await first.stop();
  await second.start();
  assert.ok(second.port > 0);
});

test('stop() called while start() is binding waits for it, then releases the port', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const ingest = new RtmpIngest({ ...options, port });
  const starting = ingest.start();
  await ingest.stop();
  await starting;
  assert.equal(ingest.port, 0);
  const again = new RtmpIngest({ ...options, port });
  await again.start(); // the port and the process-wide claim were released
  await again.stop();
  await assert.rejects(ingest.start(), /stopped; it can be started once/);
});

test('stop() in process: publisher, half-open and idle connections closed, onUnpublish, taps detached', async (t) => {
  const ingest = await startIngest(t, { allowPlay: true });
  const unpublished: RtmpStreamInfo[] = [];
  ingest.onUnpublish((s) => unpublished.push(s));
  let tagsAfterStop = 0;
  let stopped = false;
  ingest.onTag('cam1', () => void (stopped && tagsAfterStop++));
  const ffmpeg = publish(t, ingest.port, 'cam1', RIGHT_KEY);
  await waitUntil(() => (ingest.stream('cam1')?.videoFrames ?? 0) > 10, 10_000, 'cam1 flowing');
  const halfOpen = await RawRtmpClient.open(t, ingest.port);
  halfOpen.socket.write(Buffer.from([3, 1, 2, 3]));
  const player = await RawRtmpClient.open(t, ingest.port);
  await player.handshake();
  player.connect('live', `rtmp://127.0.0.1:${ingest.port}/live`);
  player.play('cam1');
  await player.waitFor(() => player.received > 20_000, 5000, 'media to the player');

  const started = performance.now();
  await ingest.stop();
  stopped = true;
  t.diagnostic(`stop() took ${Math.round(performance.now() - started)} ms`);
  assert.equal(await halfOpen.waitClosed(1000), true);
  assert.equal(await player.waitClosed(1000), true);
  assert.equal(unpublished.length, 1);
  assert.notEqual((await ffmpeg.done).code, 0, 'the publisher lost its connection');
  assert.equal(tagsAfterStop, 0);
  assert.throws(() => ingest.onTag('cam1', () => {}), /stopped/);
  await ingest.stop(); // idempotent
});

test('stop() leaves no open handle: the host process exits on its own afterwards', async (t) => {
  const host = await startHost(t, { keys: { cam1: RIGHT_KEY } });
  publish(t, host.port, 'cam1', RIGHT_KEY);
  await waitFlowing(host, 'cam1');
  const idle = await RawRtmpClient.open(t, host.port);
  await idle.handshake();
  const ms = await host.stop();
  t.diagnostic(`stop() in the host took ${Math.round(ms)} ms`);
  assert.ok(ms < 1000);
  assert.equal(await idle.waitClosed(1000), true);
  const exit = await Promise.race([host.done, sleep(3000).then(() => null)]);
  assert.ok(exit, 'the host is still running 3 s after stop(): something is left open');
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(host.messages.some((m) => m.type === 'unpublish'));
});
