/**
 * RtspPuller against a real camera: our RtspServer requiring credentials, fed by ffmpeg (H.264 + AAC). The puller
 * republishes it on a second RtspServer, which ffmpeg and ffprobe read.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../../../app/log/logger.js';
import type { Authorize, AuthorizeRequest, RtspServer } from '../../../app/media/rtsp/index.js';
import { RtspPuller, type RtspPullerOptions } from '../../../app/media/rtsp-client/index.js';
import { killAll, waitUntil } from '../../helpers/processes.js';
import {
  assertRealtimeRead,
  ffmpegRead,
  probe,
  publishTestStream,
  readReport,
  startServer,
  userPolicy,
  type TestUsers,
} from '../rtsp/peers.js';
import { activeResources, capturingLogger, challengeProxy } from './fake-cameras.js';

const USERS: TestUsers = {
  cam: { password: 'cam-secret', publish: true },
  puller: { password: 'pull-s3cret-xyz', publish: false },
};

const policy = (seen: AuthorizeRequest[]): Authorize => userPolicy(USERS, seen);

/** A camera (RtspServer with credentials) streaming `cam1`, and the relay the puller publishes to. */
async function setup(t: TestContext): Promise<{ camera: RtspServer; relay: RtspServer; seen: AuthorizeRequest[] }> {
  const seen: AuthorizeRequest[] = [];
  const camera = await startServer(t, { authorize: policy(seen) });
  await publishTestStream(t, camera, 'cam1', 'tcp', `rtsp://cam:cam-secret@127.0.0.1:${camera.port}/cam1`);
  const relay = await startServer(t);
  return { camera, relay, seen };
}

function pull(t: TestContext, port: number, relay: RtspServer, opts: Partial<RtspPullerOptions> = {}): RtspPuller {
  const puller = new RtspPuller({
    url: `rtsp://127.0.0.1:${port}/cam1`,
    user: 'puller',
    password: USERS.puller!.password,
    path: 'cam1',
    target: relay,
    log: silentLogger(),
    backoff: { initialMs: 200, maxMs: 1000 },
    ...opts,
  });
  t.after(() => puller.stop());
  puller.start();
  return puller;
}

/** Waits until the relay's `cam1` has received more than `packets` RTP packets from the puller. */
async function flowing(relay: RtspServer, packets = 50, timeoutMs = 15_000): Promise<number> {
  const ok = () => relay.paths().some((p) => p.path === 'cam1' && p.publisher !== null && p.packetsIn > packets);
  return waitUntil(ok, timeoutMs, 'cam1 flowing on the relay');
}

test('Digest: the camera is pulled; ffmpeg reads the relay 5 s in real time, ffprobe sees h264 + aac', async (t) => {
  const { camera, relay, seen } = await setup(t);
  const { log, lines } = capturingLogger();
  const before = activeResources();
  const puller = pull(t, camera.port, relay, { log });
  const ms = await flowing(relay);
  t.diagnostic(`relay flowing ${Math.round(ms)} ms after start()`);
  assert.equal(puller.stats().state, 'playing');
  assert.equal(puller.stats().reconnects, 0);
  assert.ok(seen.some((r) => r.user === 'puller' && r.action === 'read' && r.scheme === 'digest'));

  const url = `rtsp://127.0.0.1:${relay.port}/cam1`;
  const reader = ffmpegRead(t, url, 'tcp', 5);
  const probed = await probe(t, url);
  assert.equal(probed.code, 0, probed.stderr);
  assert.match(probed.stdout, /codec_name=h264\|width=640\|height=360/);
  assert.match(probed.stdout, /codec_name=aac/);
  assertRealtimeRead(readReport(await reader.done), 5, 'ffmpeg reading the relay');
  const stats = puller.stats();
  assert.ok(stats.packetsIn > 100 && stats.bytesIn > 100_000, JSON.stringify(stats));

  await puller.stop();
  assert.equal(puller.stats().state, 'stopped');
  assert.deepEqual(
    relay.paths().filter((p) => p.publisher !== null),
    [],
    'the relay path is closed',
  );
  await waitUntil(() => camera.paths()[0]?.readers === 0, 3000, 'the camera sees its reader go');
  await waitUntil(() => activeResources() <= before, 3000, 'no socket or timer left by the puller');
  const text = lines.join('');
  assert.ok(!text.includes(USERS.puller!.password), 'the password is never logged');
  assert.match(text, new RegExp(`"url":"rtsp://127.0.0.1:${camera.port}/cam1"`));
});

test('a Basic-only camera and a Digest camera with qop=auth (challenges rewritten by a proxy)', async (t) => {
  const { camera, relay, seen } = await setup(t);
  const variants = [
    { name: 'basic', rewrite: (c: string[]) => c.filter((x) => x.startsWith('Basic')), sent: /^Basic / },
    {
      name: 'digest qop=auth',
      rewrite: (c: string[]) => c.filter((x) => x.startsWith('Digest')).map((x) => `${x}, qop="auth"`),
      sent: /^Digest .*qop=auth, nc=00000001, cnonce="[0-9a-f]+"/,
    },
  ];
  for (const v of variants) {
    const proxy = await challengeProxy(t, camera.port, v.rewrite);
    const puller = pull(t, proxy.port, relay);
    await flowing(relay);
    assert.match(proxy.authorizations[0] ?? '', v.sent, v.name);
    assert.equal(seen.at(-1)?.scheme, v.name === 'basic' ? 'basic' : 'digest');
    await puller.stop();
    await waitUntil(() => relay.paths().every((p) => p.publisher === null), 3000, 'relay path closed');
  }
});

test('a wrong password: backoff with a clear lastError, retried, nothing published, nothing left after stop', async (t) => {
  const { camera, relay } = await setup(t);
  const before = activeResources();
  const puller = pull(t, camera.port, relay, { password: 'wrong' });
  await waitUntil(() => puller.stats().reconnects >= 2, 10_000, 'two retries');
  const stats = puller.stats();
  assert.ok(['backoff', 'connecting'].includes(stats.state), stats.state);
  assert.equal(stats.lastError, 'the camera refused the credentials of user "puller" (401): wrong user or password');
  assert.deepEqual(relay.paths(), []);
  assert.ok(camera.counters.authFailures >= 2);
  await puller.stop();
  await waitUntil(() => activeResources() <= before, 3000, 'no socket or timer left by the puller');
});

test('the camera publisher is killed and restarted: the puller reconnects and the relay path comes back', async (t) => {
  const seen: AuthorizeRequest[] = [];
  const camera = await startServer(t, { authorize: policy(seen) });
  const camUrl = `rtsp://cam:cam-secret@127.0.0.1:${camera.port}/cam1`;
  const first = await publishTestStream(t, camera, 'cam1', 'tcp', camUrl);
  const relay = await startServer(t);
  const puller = pull(t, camera.port, relay, { stallMs: 3000 });
  await flowing(relay);

  killAll([first.pid]);
  // Either the camera drops its readers at once, or it keeps them for its publisher and the stall check fires.
  await waitUntil(() => puller.stats().state !== 'playing', 8000, 'the puller notices');
  t.diagnostic(`puller after the kill: ${JSON.stringify(puller.stats())}`);
  await new Promise((r) => setTimeout(r, 1000));
  let online = 0;
  t.after(camera.on('path-online', () => (online = Date.now())));
  const restarted = Date.now();
  await publishTestStream(t, camera, 'cam1', 'tcp', camUrl);
  await waitUntil(() => online > 0, 5000, 'the camera path online again');
  const packets = puller.stats().packetsIn;
  await waitUntil(
    () => puller.stats().state === 'playing' && puller.stats().packetsIn > packets + 50,
    15_000,
    'pulled again',
  );
  await flowing(relay, 0);
  const playing = Date.parse(puller.stats().since);
  t.diagnostic(
    `playing again ${playing - online} ms after the camera path was online again ` +
      `(${playing - restarted} ms after the publisher restart, ffmpeg start included; ` +
      `backoff 200 ms doubling to 1 s in this test)`,
  );
  assert.ok(puller.stats().reconnects >= 1);
  const probed = await probe(t, `rtsp://127.0.0.1:${relay.port}/cam1`);
  assert.equal(probed.code, 0, probed.stderr);
  assert.match(probed.stdout, /codec_name=h264/);
  assert.match(probed.stdout, /codec_name=aac/);
});
