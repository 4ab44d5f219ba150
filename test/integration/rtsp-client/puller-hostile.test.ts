/**
 * RtspPuller against broken cameras on loopback: silent, garbage, oversized, closing, refusing; and a scripted camera
 * that checks what a well-behaved camera sees (control URLs, channels it picks, keepalive fallback, stall, TEARDOWN).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../../../app/log/logger.js';
import type { RtspServer } from '../../../app/media/rtsp/index.js';
import { RtspPuller } from '../../../app/media/rtsp-client/index.js';
import { freePort } from '../../helpers/core.js';
import { waitUntil } from '../../helpers/processes.js';
import { startServer } from '../rtsp/peers.js';
import { activeResources, fakeCamera } from './fake-cameras.js';

function puller(t: TestContext, port: number, relay: RtspServer, extra: { stallMs?: number } = {}): RtspPuller {
  const p = new RtspPuller({
    url: `rtsp://127.0.0.1:${port}/stream1`,
    user: 'admin',
    password: 'pw',
    path: 'cam1',
    target: relay,
    log: silentLogger(),
    requestTimeoutMs: 400,
    backoff: { initialMs: 100, maxMs: 400 },
    ...extra,
  });
  t.after(() => p.stop());
  return p;
}

/** Calls `fn` with each request (method, full text) once its header block is complete. */
function onRequests(socket: Socket, fn: (method: string, text: string) => void): void {
  let buf = '';
  socket.on('data', (chunk: Buffer) => {
    buf += chunk.toString('latin1');
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
      const text = buf.slice(0, end);
      buf = buf.slice(end + 4);
      fn(text.split(' ')[0]!, text);
    }
  });
}

const cseqOf = (text: string) => /^CSeq: (\d+)/m.exec(text)?.[1] ?? '0';

test('silent, garbage, oversized, closing and refusing cameras: backoff with a reason, no throw, nothing left', async (t) => {
  const relay = await startServer(t);
  const cases: Array<{ name: string; reason: RegExp; port: () => Promise<number> }> = [
    {
      name: 'never answers',
      reason: /^no answer to OPTIONS within 400 ms$/,
      port: async () => (await fakeCamera(t, () => {})).port,
    },
    {
      name: 'random bytes',
      reason: /^malformed data from the camera: malformed start line$/,
      port: async () =>
        (
          await fakeCamera(t, (s) =>
            onRequests(s, () => s.write(Buffer.concat([Buffer.from('G'), randomBytes(3000), Buffer.from('\r\n\r\n')]))),
          )
        ).port,
    },
    {
      name: 'endless header',
      reason: /^malformed data from the camera: header block too large$/,
      port: async () => (await fakeCamera(t, (s) => s.write(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(40_000)}`))).port,
    },
    {
      name: 'frames, never a response',
      reason: /^no answer to OPTIONS within 400 ms$/,
      port: async () => (await fakeCamera(t, (s) => s.write(Buffer.from([0x24, 0, 0, 4, 1, 2, 3, 4])))).port,
    },
    {
      name: 'unusable SDP',
      reason: /^the camera's SDP is unusable: SDP must start with v=0$/,
      port: async () =>
        (
          await fakeCamera(t, (s) =>
            onRequests(s, (_m, text) =>
              s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseqOf(text)}\r\nContent-Length: 5\r\n\r\nhello`),
            ),
          )
        ).port,
    },
    {
      name: 'closes at once',
      reason: /^the camera closed the connection$/,
      port: async () => (await fakeCamera(t, (s) => s.destroy())).port,
    },
    { name: 'nothing listening', reason: /^connection error: connect ECONNREFUSED/, port: () => freePort() },
  ];
  for (const c of cases) {
    const port = await c.port();
    const before = activeResources();
    const p = puller(t, port, relay);
    p.start();
    await waitUntil(() => p.stats().reconnects >= 2, 10_000, `${c.name}: two retries`);
    assert.match(p.stats().lastError ?? '', c.reason, c.name);
    assert.deepEqual(relay.paths(), [], c.name);
    await p.stop();
    assert.equal(p.stats().state, 'stopped');
    await waitUntil(() => activeResources() <= before, 3000, `${c.name}: no socket or timer left`);
  }
});

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=cam',
  't=0 0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=control:trackID=7',
  '',
].join('\r\n');

/** One RTP packet with an IDR NAL unit (so the relay's join rule is satisfied). */
function rtp(seq: number): Buffer {
  const packet = Buffer.alloc(20);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(seq * 3600, 4);
  packet.writeUInt32BE(0x1234, 8);
  packet[12] = 0x65;
  return Buffer.concat([Buffer.from([0x24, 10, 0, packet.length]), packet]);
}

test('a scripted camera: control URL from Content-Base, its own channels, keepalive fallback, stall, TEARDOWN', async (t) => {
  const relay = await startServer(t);
  const seen: string[][] = [];
  let sending = true;
  const camera = await fakeCamera(t, (socket) => {
    const requests: string[] = [];
    seen.push(requests);
    let timer: NodeJS.Timeout | undefined;
    socket.on('close', () => clearInterval(timer));
    onRequests(socket, (method, text) => {
      const uri = text.split(' ')[1]!;
      const session = /^Session: (.*)$/m.exec(text)?.[1];
      requests.push(`${method} ${uri}${session ? ` [${session}]` : ''}`);
      const ok = (headers: string, body = '') =>
        socket.write(
          `RTSP/1.0 200 OK\r\nCSeq: ${cseqOf(text)}\r\n${headers}${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n${body}`,
        );
      if (method === 'OPTIONS') ok('Public: DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN\r\n');
      else if (method === 'DESCRIBE') ok(`Content-Base: rtsp://127.0.0.1:${camera.port}/base/\r\n`, SDP);
      else if (method === 'SETUP')
        ok('Session: ABC123;timeout=2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=10-11\r\n');
      else if (method === 'PLAY') {
        ok('');
        let seq = 0;
        timer = setInterval(() => sending && socket.write(rtp(seq++)), 20);
      } else if (method === 'GET_PARAMETER')
        socket.write(`RTSP/1.0 501 Not Implemented\r\nCSeq: ${cseqOf(text)}\r\n\r\n`);
      else ok('');
    });
  });
  const before = activeResources();
  const p = puller(t, camera.port, relay, { stallMs: 1500 });
  p.start();
  await waitUntil(() => relay.paths().some((x) => x.path === 'cam1' && x.packetsIn > 10), 5000, 'relay flowing');
  // timeout=2 → a keepalive every second: GET_PARAMETER, answered 501, then OPTIONS.
  await waitUntil(() => seen[0]!.some((r) => r.startsWith('OPTIONS') && r.includes('[ABC123]')), 5000, 'keepalives');
  const base = `rtsp://127.0.0.1:${camera.port}`;
  assert.deepEqual(seen[0]!.slice(0, 6), [
    `OPTIONS ${base}/stream1`,
    `DESCRIBE ${base}/stream1`,
    `SETUP ${base}/base/trackID=7`,
    `PLAY ${base}/base/ [ABC123]`,
    `GET_PARAMETER ${base}/base/ [ABC123]`,
    `OPTIONS ${base}/base/ [ABC123]`,
  ]);

  sending = false;
  await waitUntil(() => p.stats().lastError === 'no RTP from the camera for 1.5 s', 5000, 'stall detected');
  assert.ok(seen[0]!.at(-1)?.startsWith('TEARDOWN'), 'the stalled session is torn down');
  sending = true;
  await waitUntil(() => seen.length >= 2 && p.stats().state === 'playing', 5000, 'reconnected');
  await p.stop();
  await waitUntil(() => seen[1]!.at(-1)?.startsWith('TEARDOWN') === true, 2000, 'TEARDOWN on stop');
  await waitUntil(() => activeResources() <= before, 3000, 'no socket or timer left');
});
