/**
 * Publisher restarts: a publisher killed with -9 and started again within the grace period continues its path. The
 * readers attached before the kill (ffmpeg over TCP and over UDP) keep running and decode the new publisher's
 * pictures: the first publisher sends a test pattern, the second solid red, and the readers' decoded frames show it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RtspServerEvents } from '../../../app/media/rtsp/index.js';
import { waitUntil } from '../../helpers/processes.js';
import { FFMPEG, publisherArgs, spawnPeer, startServer, type Peer } from './peers.js';
import type { Scope } from '../../helpers/core.js';

const TINY = 8 * 8 * 3;

/** An ffmpeg reader that writes every decoded picture, scaled to 8x8 RGB, to `file`. */
function pictureReader(scope: Scope, url: string, transport: 'tcp' | 'udp', file: string): Peer {
  return spawnPeer(scope, FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', transport, '-i', url],
    ...['-map', '0:v', '-vf', 'scale=8:8', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-flush_packets', '1', '-y', file],
  ]);
}

/** Per decoded picture: true when it is (almost) solid red. */
function redPictures(file: string): boolean[] {
  const data = readFileSync(file);
  const out: boolean[] = [];
  for (let at = 0; at + TINY <= data.length; at += TINY) {
    let r = 0;
    let gb = 0;
    for (let i = at; i < at + TINY; i += 3) {
      r += data[i]!;
      gb += data[i + 1]! + data[i + 2]!;
    }
    out.push(r / 64 > 200 && gb / 128 < 60);
  }
  return out;
}

test('a publisher killed and restarted within seconds: attached TCP and UDP readers continue with the new stream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer(t);
  const events: string[] = [];
  const online: RtspServerEvents['path-online'][] = [];
  server.on('path-online', (e) => (online.push(e), events.push(e.resumed ? 'resumed' : 'online')));
  server.on('path-offline', () => events.push('offline'));
  const url = `rtsp://127.0.0.1:${server.port}/cam1`;
  const flowing = (n: number) => server.paths().some((p) => p.publisher && p.packetsIn > n);

  const first = spawnPeer(t, FFMPEG, publisherArgs(url, 'tcp'));
  await waitUntil(() => flowing(50), 15_000, 'first publisher flowing');
  const files = { tcp: join(dir, 'tcp.rgb'), udp: join(dir, 'udp.rgb') };
  const readers = { tcp: pictureReader(t, url, 'tcp', files.tcp), udp: pictureReader(t, url, 'udp', files.udp) };
  await waitUntil(() => server.paths()[0]?.readers === 2, 10_000, 'two readers');
  await new Promise((r) => setTimeout(r, 3000));

  process.kill(-first.pid, 'SIGKILL');
  await waitUntil(() => events.includes('offline'), 5000, 'path offline');
  assert.deepEqual(
    server.paths().map((p) => [p.publisher, p.readers]),
    [[null, 2]],
  );
  await new Promise((r) => setTimeout(r, 3000)); // a restart of a few seconds
  const restartedAt = performance.now();
  const red = publisherArgs(url, 'tcp').map((a) => (a.startsWith('testsrc2') ? 'color=c=red:size=640x360:rate=25' : a));
  spawnPeer(t, FFMPEG, red);
  await waitUntil(() => events.includes('resumed'), 15_000, 'path resumed');
  t.diagnostic(`path back ${Math.round(performance.now() - restartedAt)} ms after the new publisher was started`);
  await waitUntil(
    () => Object.values(files).every((f) => redPictures(f).filter(Boolean).length >= 50),
    15_000,
    'both readers decode 2 s of the new publisher’s red pictures',
  ).catch(async (err: unknown) => {
    // What the readers got, to tell "not decoding" from "disconnected" when this fails.
    for (const [name, file] of Object.entries(files)) {
      const pictures = redPictures(file);
      t.diagnostic(`${name}: ${pictures.length} pictures, ${pictures.filter(Boolean).length} red`);
    }
    t.diagnostic(JSON.stringify(server.paths()));
    throw err;
  });

  for (const [name, reader] of Object.entries(readers)) {
    assert.ok(reader.running(), `${name} reader kept running across the restart`);
    const pictures = redPictures(files[name as 'tcp' | 'udp']);
    const firstRed = pictures.indexOf(true);
    assert.ok(firstRed >= 50, `${name}: ${firstRed} pictures of the first publisher before the red ones`);
    assert.ok(
      pictures.slice(firstRed).every(Boolean),
      `${name}: once red, only red (no picture of the old stream after the new one)`,
    );
    t.diagnostic(`${name}: ${firstRed} pictures before the restart, ${pictures.length - firstRed} after`);
  }
  process.kill(-readers.tcp.pid, 'SIGKILL');
  process.kill(-readers.udp.pid, 'SIGKILL');
  for (const [name, reader] of Object.entries(readers)) {
    const { stderr } = await reader.done;
    assert.equal(stderr.trim(), '', `${name} reader: no decode or timestamp errors`);
  }
  assert.deepEqual(events, ['online', 'offline', 'resumed']);
  assert.deepEqual(
    server.paths().map((p) => [p.publishers, p.readers, p.publisher?.transport]),
    [[2, 0, 'tcp']],
  );
});
