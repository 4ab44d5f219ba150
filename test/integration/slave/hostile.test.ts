/**
 * Hostile input on the three media ports of a running slave (RTMP, F1, F2) while a camera streams and an ffmpeg
 * reader reads F1: every bad connection is answered and/or closed, nothing restarts, the reader keeps flowing and a
 * new reader gets in afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { Scope } from '../../helpers/core.js';
import { api } from '../../helpers/http.js';
import { RawRtmpClient } from '../rtmp/raw-rtmp-client.js';
import { assertRealtimeRead, ffmpegRead, readReport } from '../rtsp/peers.js';
import { pushCamera, rtspUrl, startSlave, token, workerPid } from './slave.js';

/** What a server did with one hostile connection. */
interface Outcome {
  /** ms until the server closed it; null when it was still open at the deadline. */
  closedMs: number | null;
  /** The start of what the server sent (latin1). */
  head: string;
}

/**
 * Connects to `port` (from `from`, a loopback address), sends `bytes` (nothing when null) and waits up to
 * `timeoutMs` for the server to close the connection. What the server sends is read and kept (first 1 KB).
 */
function hit(scope: Scope, port: number, bytes: Buffer | string | null, from: string, timeoutMs = 15_000) {
  return new Promise<Outcome>((resolve) => {
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    scope.after(() => void socket.destroy());
    let head = '';
    const timer = setTimeout(() => resolve({ closedMs: null, head }), timeoutMs);
    socket.on('data', (d: Buffer) => (head = (head + d.toString('latin1')).slice(0, 1024)));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedMs: performance.now() - started, head });
    });
    if (bytes !== null) socket.on('connect', () => socket.write(bytes));
  });
}

const status = (o: Outcome) => Number(/^RTSP\/1\.0 (\d{3}) /.exec(o.head)?.[1] ?? 0) || null;

/** The same hostile payloads for every port; on the RTSP ports, the status each must get before the close. */
const PAYLOADS: Array<{ what: string; bytes: Buffer | string; rtsp: number | null }> = [
  { what: '64 KB of random bytes', bytes: Buffer.concat([Buffer.from('G'), randomBytes(64 * 1024)]), rtsp: 400 },
  { what: 'GARBAGE', bytes: 'GARBAGE\r\n\r\n', rtsp: 400 },
  { what: 'DESCRIBE foo', bytes: 'DESCRIBE foo\r\n\r\n', rtsp: 400 },
  { what: 'DESCRIBE foo, never completed', bytes: 'DESCRIBE foo', rtsp: 408 },
  { what: 'a 1 MB header line', bytes: `OPTIONS * RTSP/1.0\r\nX-Long: ${'a'.repeat(1024 * 1024)}`, rtsp: 400 },
  {
    what: 'a huge Content-Length',
    bytes: 'ANNOUNCE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\n',
    rtsp: 413,
  },
];

test('hostile input on the RTMP, F1 and F2 ports: no restart, the F1 reader keeps flowing, a new reader works', async (t) => {
  const s = await startSlave(t);
  const camera = await pushCamera(t, s, 'cam1');
  const cred = await token(s, 'reader');
  const f1 = rtspUrl(s, 'f1', 'cam1', cred);
  const readSeconds = 30;
  const reader = ffmpegRead(t, f1, 'tcp', readSeconds);
  const pid = workerPid(s);
  await new Promise((r) => setTimeout(r, 2000));
  const started = performance.now();

  const ports = { rtmp: s.media.rtmpPort, f1: s.media.f1Port, f2: s.media.f2Port };
  // From another loopback address, as an attacker would come: RTSP's per-IP limit must not shut out the reader.
  const attacker = '127.0.0.2';
  const payloads = Object.entries(ports).flatMap(([name, port]) =>
    PAYLOADS.map(async (p) => ({ name, ...p, outcome: await hit(t, port, p.bytes, attacker) })),
  );
  // NMS 4.4 dies on a malformed tcUrl; the others are the variants app/media/rtmp guards against.
  const tcUrls: Array<[string, string | number]> = [
    ['malformed tcUrl', 'rtmp://[::1'],
    ['tcUrl not a URL', 'not a url'],
    ['tcUrl a number', 42],
  ];
  const rtmp = tcUrls.map(async ([what, tcUrl]) => {
    const c = await RawRtmpClient.open(t, ports.rtmp);
    await c.handshake();
    c.connect('live', tcUrl);
    return { what, closed: await c.waitClosed(5000) };
  });
  // 500 half-open connections over the three ports: silent, or a partial request / handshake, then nothing.
  const halfOpen = Array.from({ length: 500 }, (_, i) => {
    const [name, port] = Object.entries(ports)[i % 3]!;
    const partial = name === 'rtmp' ? Buffer.concat([Buffer.from([3]), randomBytes(700)]) : 'OPTIONS * RTSP/1.0\r\nCSe';
    return hit(t, port, i % 2 === 0 ? partial : null, attacker, 30_000).then((o) => ({ name, ...o }));
  });

  for (const r of await Promise.all(rtmp)) assert.ok(r.closed, `RTMP ${r.what}: the connection was not closed`);
  for (const r of await Promise.all(payloads)) {
    const where = `${r.what} on ${r.name}: closed=${r.outcome.closedMs} head=${JSON.stringify(r.outcome.head.slice(0, 80))}`;
    assert.notEqual(r.outcome.closedMs, null, `not closed: ${where}`);
    if (r.name !== 'rtmp') assert.equal(status(r.outcome), r.rtsp, where);
  }
  const half = await Promise.all(halfOpen);
  const open = half.filter((o) => o.closedMs === null);
  const slowest = Math.max(...half.map((o) => o.closedMs ?? Infinity));
  t.diagnostic(
    `500 half-open: ${half.filter((o) => o.name !== 'rtmp' && status(o) === 503).length} refused with 503 at accept, ` +
      `all closed within ${Math.round(slowest)} ms; attacks done after ${Math.round(performance.now() - started)} ms`,
  );
  assert.equal(
    open.length,
    0,
    `${open.length} half-open connections left open: ${[...new Set(open.map((o) => o.name))]}`,
  );

  assert.equal(workerPid(s), pid, 'the media-plane worker is the same process');
  const child = s.tc.core.children().find((c) => c.name === 'media-plane');
  assert.equal(child?.restarts, 0, 'the worker never restarted');
  assert.equal((await api(s.tc.url, '/health')).status, 200, 'the core answers');
  assert.ok(camera.running(), 'the camera kept publishing');
  assert.ok(
    !s.events.some((e) => e.type === 'stream.offline'),
    `no stream went offline: ${JSON.stringify(s.events.filter((e) => e.type === 'stream.offline'))}`,
  );

  const fresh = readReport(await ffmpegRead(t, f1, 'tcp', 5).done);
  const report = readReport(await reader.done);
  t.diagnostic(`reader during the attacks: speed ${report.speed} steady ${report.steadyRate.toFixed(3)}`);
  t.diagnostic(`new reader afterwards: speed ${fresh.speed} steady ${fresh.steadyRate.toFixed(3)}`);
  await t.test('the reader kept flowing in real time without errors', () =>
    assertRealtimeRead(report, readSeconds, 'F1 reader during the attacks'),
  );
  await t.test('a new reader works afterwards', () => assertRealtimeRead(fresh, 5, 'new F1 reader'));
});
