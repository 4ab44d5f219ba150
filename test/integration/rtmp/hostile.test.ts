/**
 * Hostile input on the RTMP port, against the ingest running in its own process (as in the media-plane worker),
 * so that an uncaught exception shows as that process dying. A legit ffmpeg publisher keeps flowing throughout:
 * malformed tcUrl (NMS 4.4 crashes on it), connect without tcUrl, garbage, a 1 MB random blob, an oversized message,
 * and 500 half-open connections.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Scope } from '../../helpers/core.js';
import { publish, RIGHT_KEY, startHost, waitFlowing, type IngestHost } from './peers.js';
import { RawRtmpClient } from './raw-rtmp-client.js';

/** Handshake, then `attack(client)`; asserts the server closes the connection and the host is alive. */
async function expectClosed(
  t: Scope,
  host: IngestHost,
  what: string,
  attack: (c: RawRtmpClient) => void | Promise<void>,
  handshake = true,
): Promise<void> {
  const client = await RawRtmpClient.open(t, host.port);
  if (handshake) await client.handshake();
  const started = performance.now();
  await attack(client);
  assert.equal(await client.waitClosed(4000), true, `${what}: the server did not close the connection`);
  (t as { diagnostic?: (s: string) => void }).diagnostic?.(
    `${what}: closed after ${Math.round(performance.now() - started)} ms`,
  );
  assert.ok(host.running(), `${what}: the ingest process died`);
}

test('hostile input cannot interrupt a concurrent publisher', async (t) => {
  const host = await startHost(t, { keys: { cam1: RIGHT_KEY }, limits: { setupTimeoutMs: 2000 } });
  const ffmpeg = publish(t, host.port, 'cam1', RIGHT_KEY);
  const before = await waitFlowing(host, 'cam1');
  const startedAt = Date.now();
  const tcUrl = `rtmp://127.0.0.1:${host.port}/live`;

  await expectClosed(t, host, 'malformed tcUrl', (c) => c.connect('live', 'rtmp://[::1'));
  await expectClosed(t, host, 'tcUrl not a URL', (c) => c.connect('live', 'not a url'));
  await expectClosed(t, host, 'tcUrl a number', (c) => c.connect('live', 42));
  await expectClosed(t, host, 'connect without tcUrl', (c) => c.command('connect', 1, [{ app: 'live' }]));
  await expectClosed(t, host, 'connect without command object', (c) => c.command('connect', 1, [null]));
  await expectClosed(t, host, 'publish name not a string (a refusal)', (c) => {
    c.connect('live', tcUrl);
    c.command('publish', 3, [null, 7, 'live'], 1);
  });
  await expectClosed(t, host, '64 KB garbage after the handshake', (c) => void c.socket.write(randomBytes(64 * 1024)));
  await expectClosed(t, host, '16 MB message header', (c) => {
    const h = Buffer.alloc(13);
    h[0] = 4;
    h.writeUIntBE(0xfffff0, 4, 3);
    h[7] = 9;
    c.socket.write(h);
  });
  for (let i = 0; i < 3; i++) {
    await expectClosed(
      t,
      host,
      `1 MB random blob #${i + 1}`,
      (c) => void c.socket.write(randomBytes(1024 * 1024)),
      false,
    );
  }

  // 500 half-open connections: nothing, a partial C0/C1, or a complete handshake and then silence.
  const closed: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) {
    const s = connect({ port: host.port, host: '127.0.0.1' });
    t.after(() => void s.destroy());
    s.on('error', () => undefined);
    s.resume(); // read (and drop) what the server sends, so that its close is seen
    closed.push(new Promise((resolve) => s.once('close', () => resolve())));
    if (i % 3 === 1) s.write(Buffer.concat([Buffer.from([3]), randomBytes(700)]));
    if (i % 3 === 2) s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536 * 2)]));
  }
  const halfOpenStart = performance.now();
  const allClosed = await Promise.race([Promise.all(closed).then(() => true), sleep(15_000).then(() => false)]);
  assert.ok(allClosed, 'the server left half-open connections open');
  t.diagnostic(
    `500 half-open connections closed by the server within ${Math.round(performance.now() - halfOpenStart)} ms`,
  );

  assert.ok(host.running(), 'the ingest process died');
  assert.ok(ffmpeg.running(), 'the publisher was interrupted');
  const after = await host.report();
  const elapsed = (Date.now() - startedAt) / 1000;
  const frames = after.tags.cam1!.byType['9']! - before.tags.cam1!.byType['9']!;
  t.diagnostic(`counters: ${JSON.stringify(after.counters)}`);
  t.diagnostic(
    `publisher meanwhile: ${frames} video tags in ${elapsed.toFixed(1)} s, now ${after.tags.cam1!.videoPerSecond}/s`,
  );
  t.diagnostic(`ingest RSS ${after.rssMb.toFixed(0)} MB (${before.rssMb.toFixed(0)} MB before)`);
  assert.ok(frames >= 25 * elapsed * 0.85, `${frames} video tags in ${elapsed} s`);
  assert.ok(after.tags.cam1!.videoPerSecond >= 20);
  assert.equal(after.tags.cam1!.videoTsBackwards, 0);
  assert.equal(after.streams.length, 1);
  assert.equal(after.counters.published, 1);
  assert.ok(after.counters.protocolErrors >= 10, `protocolErrors ${after.counters.protocolErrors}`);
  assert.ok(after.counters.timedOut >= 500, `timedOut ${after.counters.timedOut}`);
  assert.equal(host.messages.filter((m) => m.type === 'unpublish').length, 0);
  assert.ok(after.rssMb < before.rssMb + 100, `RSS ${before.rssMb} → ${after.rssMb} MB`);
});
