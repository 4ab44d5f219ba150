/**
 * Start/stop and session life: a taken port is a clear error; stop() closes everything; readers are told when the
 * publisher leaves; UDP readers get RTP on their client ports and idle UDP sessions are reaped.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../../../app/log/logger.js';
import { RtspServer, type RtspServerEvents } from '../../../app/media/rtsp/index.js';
import type { Scope } from '../../helpers/core.js';
import { waitUntil } from '../../helpers/processes.js';
import { ffmpegRead, publishTestStream, startServer } from './peers.js';
import { RawClient } from './raw-client.js';

/** A UDP socket pair bound on loopback (RTCP = RTP + 1) that counts what it receives; closed in t.after. */
async function udpClientPorts(t: Scope): Promise<{ ports: [number, number]; received: () => number }> {
  for (;;) {
    const rtp = createSocket('udp4');
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
    const rtcp: Socket = createSocket('udp4');
    const port = rtp.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      rtcp.once('error', () => resolve(false));
      rtcp.bind(port + 1, '127.0.0.1', () => resolve(true));
    });
    if (!ok) {
      rtp.close();
      continue;
    }
    let count = 0;
    rtp.on('message', () => count++);
    t.after(() => {
      rtp.close();
      rtcp.close();
    });
    return { ports: [port, port + 1], received: () => count };
  }
}

/** SETUP (one track) + PLAY on a raw connection; returns the client. */
async function play(t: Scope, server: RtspServer, path: string, transport: string): Promise<RawClient> {
  const url = `rtsp://127.0.0.1:${server.port}/${path}`;
  const client = await RawClient.open(t, server.port);
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: transport });
  assert.equal(setup.status, 200, setup.headers.join('\n'));
  const res = await client.request('PLAY', url, { Session: setup.get('Session')!.split(';')[0]! });
  assert.equal(res.status, 200);
  return client;
}

test('a taken TCP or UDP port is a thrown error naming it', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as { port: number }).port;
  const opts = { host: '127.0.0.1', log: silentLogger(), authorize: () => 'ok' as const };
  const server = new RtspServer({ ...opts, port });
  await assert.rejects(server.start(), new RegExp(`RTSP: port 127.0.0.1:${port} is already in use`));

  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  t.after(() => udp.close());
  const second = new RtspServer({ ...opts, port: 0, udpRtpPort: udp.address().port });
  await assert.rejects(second.start(), /RTSP: cannot bind UDP 127\.0\.0\.1:\d+ for RTP/);
});

test('stop() closes publisher, TCP and UDP readers and frees every port', async (t) => {
  const server = await startServer(t);
  const publisher = await publishTestStream(t, server, 'cam1', 'tcp');
  const tcpReader = await play(t, server, 'cam1', 'RTP/AVP/TCP;unicast;interleaved=0-1');
  const udpClient = await udpClientPorts(t);
  const udpReader = await play(t, server, 'cam1', `RTP/AVP;unicast;client_port=${udpClient.ports.join('-')}`);
  await waitUntil(() => udpClient.received() > 20 && tcpReader.frameBytes > 0, 5000, 'RTP to both readers');
  assert.equal(server.paths()[0]?.readers, 2);
  const [port, [rtpPort, rtcpPort]] = [server.port, server.udpPorts!];

  await server.stop();
  assert.equal(await tcpReader.waitClosed(2000), true);
  assert.equal(await udpReader.waitClosed(2000), true);
  await waitUntil(() => !publisher.running(), 5000, 'the publisher to notice');
  // Every port is free again: a new server binds exactly the same ones.
  const again = new RtspServer({
    port,
    host: '127.0.0.1',
    log: silentLogger(),
    authorize: () => 'ok',
    udpRtpPort: rtpPort,
  });
  await again.start();
  assert.deepEqual(again.udpPorts, [rtpPort, rtcpPort]);
  await again.stop();
  await server.stop();
});

test('when the publisher leaves, its readers are kept for the grace period, then disconnected', async (t) => {
  const server = await startServer(t, { limits: { publisherGraceMs: 1500 } });
  const offline: RtspServerEvents['path-offline'][] = [];
  server.on('path-offline', (e) => offline.push(e));
  const publisher = await publishTestStream(t, server, 'cam1', 'udp');
  const raw = await play(t, server, 'cam1', 'RTP/AVP/TCP;unicast;interleaved=0-1');
  const reader = ffmpegRead(t, `rtsp://127.0.0.1:${server.port}/cam1`, 'udp', 60);
  await waitUntil(() => server.paths()[0]?.readers === 2, 10_000, 'two readers');
  process.kill(-publisher.pid, 'SIGKILL');
  // A killed UDP publisher says nothing: its TCP connection's reset is what ends the path.
  await waitUntil(() => offline.length === 1, 5000, 'path offline');
  const left = performance.now();
  assert.deepEqual(
    server.paths().map((p) => [p.path, p.publisher, p.readers]),
    [['cam1', null, 2]],
    'waiting for the publisher, readers kept',
  );
  assert.equal(await raw.waitClosed(5000), true);
  const keptMs = performance.now() - left;
  assert.ok(keptMs > 1200, `readers kept ${Math.round(keptMs)} ms for a grace of 1500 ms`);
  assert.deepEqual(server.paths(), []);
  const result = await reader.done;
  assert.ok(result.signal === null, `ffmpeg ended by itself: ${result.stderr.slice(-500)}`);
});

test('UDP readers get RTP on their client ports; a silent UDP session is reaped; TEARDOWN ends a session', async (t) => {
  const server = await startServer(t, { limits: { sessionTimeoutMs: 1500 } });
  await publishTestStream(t, server, 'cam1', 'tcp');
  const ports = await udpClientPorts(t);
  const silent = await play(t, server, 'cam1', `RTP/AVP;unicast;client_port=${ports.ports.join('-')}`);
  await waitUntil(() => ports.received() > 10, 3000, 'RTP on the client port');
  assert.equal(await silent.waitClosed(5000), true, 'no RTCP and no keepalive: reaped');
  assert.equal(server.counters.sessionsTimedOut, 1);
  const count = ports.received();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(ports.received() - count <= 5, 'nothing more is sent to a reaped session');

  const client = await play(t, server, 'cam1', 'RTP/AVP/TCP;unicast;interleaved=0-1');
  assert.equal(server.paths()[0]?.readers, 1);
  const teardown = await client.request('TEARDOWN', `rtsp://127.0.0.1:${server.port}/cam1`);
  assert.equal(teardown.status, 200);
  assert.equal(server.paths()[0]?.readers, 0);
  const wrongSession = await client.request('PLAY', `rtsp://127.0.0.1:${server.port}/cam1`, { Session: 'nope' });
  assert.equal(wrongSession.status, 454);
});
