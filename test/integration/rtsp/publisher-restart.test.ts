/**
 * Publisher restarts: a publisher killed with -9 and started again within the grace period continues its path. The
 * readers attached before the kill (ffmpeg over TCP and over UDP) keep running and decode the new publisher's
 * pictures: the first publisher sends a test pattern, the second solid red, and the readers' decoded frames show it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RtspServerEvents } from '../../../app/media/rtsp/index.js';
import { waitUntil } from '../../helpers/processes.js';
import { FFMPEG, publisherArgs, spawnPeer, startServer } from './peers.js';
import { asRed, pictureReader, redPictures } from './pictures.js';

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
  spawnPeer(t, FFMPEG, asRed(publisherArgs(url, 'tcp')));
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
