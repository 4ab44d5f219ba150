/**
 * A camera behind a jittery network (its RTMP bytes held back 0-150 ms at random, order kept, as on Wi-Fi or 4G):
 * F1 must still give readers steady, monotonic timestamps, since the FLV timestamps themselves are steady.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import type { Scope } from '../../helpers/core.js';
import { FFMPEG, readReport, spawnPeer } from '../rtsp/peers.js';
import { addCamera, copyRead, rtmpPushArgs, rtspUrl, startSlave, token, waitOnline } from './slave.js';

/** A TCP proxy on 127.0.0.1 to `port` that holds client → server bytes for 0..maxDelayMs at random; closed in after. */
async function jitterProxy(scope: Scope, port: number, maxDelayMs: number): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ port, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let held: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    client.on('data', (d: Buffer) => {
      held.push(d);
      timer ??= setTimeout(() => {
        upstream.write(Buffer.concat(held));
        held = [];
        timer = undefined;
      }, Math.random() * maxDelayMs);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as { port: number }).port;
}

test('a camera behind 0-150 ms of network jitter: an F1 reader sees monotonic timestamps', async (t) => {
  const s = await startSlave(t);
  const grant = await addCamera(s, 'cam1');
  const proxy = await jitterProxy(t, s.media.rtmpPort, 150);
  await new Promise((r) => setTimeout(r, 200)); // the access tables reach the worker over IPC
  const url = grant.publishUrl.replace(`:${s.media.rtmpPort}/`, `:${proxy}/`);
  spawnPeer(t, FFMPEG, rtmpPushArgs(url));
  await waitOnline(s, 'f1', 'cam1');
  const seconds = 25;
  const report = readReport(await copyRead(t, rtspUrl(s, 'f1', 'cam1', await token(s, 'r')), seconds).done);
  const errors = report.result.stderr.trim().split('\n').filter(Boolean);
  // Where the timestamps went back, in seconds of media (video at 90 kHz, audio at 48 kHz).
  const at = errors.map((l) => {
    const m = /stream (\d): (\d+) >= (\d+)/.exec(l);
    if (!m) return l;
    const rate = m[1] === '0' ? 90_000 : 48_000;
    return `${m[1] === '0' ? 'video' : 'audio'} at ${(Number(m[3]) / rate).toFixed(2)} s back by ${((Number(m[2]) - Number(m[3])) / (rate / 1000)).toFixed(1)} ms`;
  });
  t.diagnostic(`steady rate ${report.steadyRate.toFixed(3)}, ${errors.length} errors: ${at.join('; ')}`);
  assert.equal(report.result.code, 0, report.result.stderr);
  assert.ok(report.outTimeS >= seconds - 0.5 && report.steadyRate >= 0.95, `read ${report.outTimeS} s`);
  assert.deepEqual(errors, [], 'the reader saw timestamps go back');
});
