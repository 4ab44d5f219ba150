/**
 * Hostile input on the RTSP port: every bad connection is answered and/or closed, the server stays up, and a
 * reader that was already playing keeps flowing in real time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { assertRealtimeRead, ffmpegRead, publishTestStream, readReport, startServer } from './peers.js';
import { RawClient } from './raw-client.js';

const LIMITS = { maxConnectionsPerIp: 100, requestTimeoutMs: 2000, partialRequestTimeoutMs: 2000 };

test('garbage, malformed and oversized requests and 500 half-open connections; a reader keeps flowing', async (t) => {
  const server = await startServer(t, { limits: LIMITS });
  await publishTestStream(t, server, 'cam1', 'tcp');
  const url = `rtsp://127.0.0.1:${server.port}/cam1`;
  const readSeconds = 14;
  const reader = ffmpegRead(t, url, 'tcp', readSeconds);
  await new Promise((r) => setTimeout(r, 1500));

  /** Sends `bytes` on a fresh connection; returns the status answered (if any) once the server has closed it. */
  const attack = async (bytes: Buffer | string, localAddress?: string): Promise<number | null> => {
    const client = await RawClient.open(t, server.port, localAddress);
    client.socket.write(bytes);
    const closed = await client.waitClosed(6000);
    assert.ok(closed, `server did not close after ${String(bytes).slice(0, 40)}`);
    const status = /^RTSP\/1\.0 (\d{3})/.exec(client.pending);
    return status ? Number(status[1]) : null;
  };

  // More than the header cap, so the answer is 400 whether or not the noise happens to contain an empty line.
  const garbage = randomBytes(64 * 1024);
  garbage[0] = 0x47; // not '$', which would be a (valid) interleaved frame that only the idle timeout ends
  assert.equal(await attack(garbage), 400);
  assert.equal(await attack('GARBAGE\r\n\r\n'), 400);
  assert.equal(await attack('DESCRIBE foo\r\n\r\n'), 400);
  assert.equal(await attack('DESCRIBE foo'), 408, 'a request that never completes times out');
  assert.equal(await attack(`OPTIONS * RTSP/1.0\r\nX-Long: ${'a'.repeat(1024 * 1024)}`), 400);
  assert.equal(
    await attack('ANNOUNCE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\n'),
    413,
  );
  assert.equal(await attack(Buffer.from([0x24, 0, 0, 4, 1, 2, 3, 4])), null, 'frames without a session: idle close');
  assert.equal(await attack(`\r\n`.repeat(50_000)), null, 'line breaks alone are no request: idle close');

  // 500 half-open connections from another loopback address: the per-IP limit refuses most with 503 at once,
  // the request timeout closes the rest; nobody else is affected.
  const started = Date.now();
  const clients = await Promise.all(
    Array.from({ length: 500 }, async (_, i) => {
      const c = await RawClient.open(t, server.port, '127.0.0.2');
      if (i % 2 === 0) c.socket.write('OPTIONS * RTSP/1.0\r\nCSe');
      return c;
    }),
  );
  const closedAll = await Promise.all(clients.map((c) => c.waitClosed(8000)));
  const closedIn = Date.now() - started;
  assert.equal(closedAll.filter(Boolean).length, 500, 'every half-open connection was closed');
  const refused = clients.filter((c) => c.pending.startsWith('RTSP/1.0 503')).length;
  assert.ok(refused >= 400, `refused with 503: ${refused}`);
  assert.ok(server.counters.connectionsRejected >= 400);
  t.diagnostic(`500 half-open: ${refused} refused with 503, all closed in ${closedIn} ms`);

  const after = await RawClient.open(t, server.port);
  const res = await after.request('OPTIONS', url);
  assert.equal(res.status, 200);
  assert.match(res.get('Public') ?? '', /DESCRIBE/);

  const report = readReport(await reader.done);
  assertRealtimeRead(report, readSeconds, 'ffmpeg reader during the attacks');
  t.diagnostic(`reader speed ${report.speed} steady ${report.steadyRate.toFixed(3)}`);
  assert.equal(server.counters.badRequests, 5, '400 × 4 and 413 × 1');
});

test('the global connection limit answers 503 and recovers when connections leave', async (t) => {
  const server = await startServer(t, { limits: { maxConnections: 5 } });
  const url = `rtsp://127.0.0.1:${server.port}/x`;
  const held = await Promise.all(Array.from({ length: 5 }, () => RawClient.open(t, server.port)));
  const extra = await RawClient.open(t, server.port, '127.0.0.3');
  assert.equal(await extra.waitClosed(3000), true);
  assert.match(extra.pending, /^RTSP\/1\.0 503 Service Unavailable/);
  for (const c of held) c.socket.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const fresh = await RawClient.open(t, server.port);
  assert.equal((await fresh.request('OPTIONS', url)).status, 200);
});
