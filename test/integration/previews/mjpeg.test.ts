/**
 * MJPEG previews and snapshots of a real slave: two viewers of one (stream, fps, width) share one decoder process
 * and each gets the requested rate; snapshots are whole JPEGs (from the running decoder's cache, or from a decoder
 * started for them); a paused viewer skips images instead of queuing them while another keeps its rate; decoders
 * stop after the last viewer leaves; bad parameters and missing credentials get the API's errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertError } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import {
  ffmpegProcesses,
  get,
  head,
  liveChildren,
  looksLikeJpeg,
  mintLink,
  openMjpeg,
  probeFile,
  rate,
  startPreviewSlave,
  tempFile,
} from './fixture.js';

interface PreviewList {
  mjpeg: Array<{
    stream: string;
    fps: number;
    width: number;
    users: number;
    viewers: Array<{ sent: number; skipped: number; queuedBytes: number }>;
  }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fixture response in the shape assertError reads. */
async function asResponse(p: ReturnType<typeof get>) {
  const r = await p;
  return { status: r.status, headers: new Headers({ 'content-type': r.type }), text: r.body.toString(), json: r.json };
}

test('MJPEG preview and snapshots: one shared decoder, requested rate, slow viewers skip, linger stop', async (t) => {
  const s = await startPreviewSlave(t);

  await t.test('parameters are checked; no credential → 401; unknown → 404; offline → 503', async () => {
    assertError(await asResponse(get(s, '/mjpeg/f1/cam1?fps=0')), 400, 'invalid_request', 'fps');
    assertError(await asResponse(get(s, '/mjpeg/f1/cam1?fps=31')), 400, 'invalid_request', 'fps');
    assertError(await asResponse(get(s, '/mjpeg/f1/cam1?fps=2.5')), 400, 'invalid_request', 'fps');
    assertError(await asResponse(get(s, '/mjpeg/f1/cam1?width=15')), 400, 'invalid_request', 'width');
    assertError(await asResponse(get(s, '/mjpeg/f1/cam1?width=641')), 400, 'invalid_request', 'width');
    assertError(await asResponse(get(s, '/mjpeg/f1/cam1?width=3842')), 400, 'invalid_request', 'width');
    assertError(await asResponse(get(s, '/snapshot/f1/cam1.jpg?width=abc')), 400, 'invalid_request', 'width');
    assertError(await asResponse(get(s, '/mjpeg/f1/cam1', {})), 401, 'unauthorized');
    assertError(await asResponse(get(s, '/snapshot/f1/cam1.jpg', {})), 401, 'unauthorized');
    assertError(await asResponse(get(s, '/mjpeg/f1/nope')), 404, 'not_found');
    assertError(await asResponse(get(s, '/snapshot/f1/cam1.png')), 404, 'not_found');
    assertError(await asResponse(get(s, '/snapshot/f2/cam1.jpg')), 503, 'stream_offline');
    assert.deepEqual(liveChildren(s, 'mjpeg:'), []);
  });

  await t.test('HEAD answers what GET would, without starting a decoder or holding a viewer', async () => {
    const mjpeg = await head(s, '/mjpeg/f1/cam1?fps=5&width=320');
    assert.equal(mjpeg.status, 200);
    assert.match(mjpeg.headers.get('content-type') ?? '', /^multipart\/x-mixed-replace; boundary=/);
    const snap = await head(s, '/snapshot/f1/cam1.jpg');
    assert.equal(snap.status, 200);
    assert.match(snap.headers.get('content-type') ?? '', /^image\/jpeg/);
    const statuses = await Promise.all([
      head(s, '/mjpeg/f1/cam1', {}),
      head(s, '/snapshot/f1/cam1.jpg', {}),
      head(s, '/mjpeg/f1/nope'),
      head(s, '/snapshot/f1/nope.jpg'),
      head(s, '/mjpeg/f2/cam1'),
      head(s, '/mjpeg/f1/cam1?fps=0'),
    ]);
    assert.deepEqual(
      statuses.map((r) => r.status),
      [401, 401, 404, 404, 503, 400],
    );
    await sleep(300); // a decoder started by a HEAD would be listed (and spawned) by now
    assert.deepEqual(liveChildren(s, 'mjpeg:'), []);
    assert.deepEqual(((await get(s, '/api/v1/previews')).json as PreviewList).mjpeg, []);
    assert.equal(ffmpegProcesses('image2pipe').length, 0);
  });

  await t.test('two viewers at 5 fps / 320 px share one decoder; each gets ~5 images/s', async () => {
    const link = await mintLink(s, 'f1/cam1');
    const a = await openMjpeg(s, '/mjpeg/f1/cam1?fps=5&width=320');
    const b = await openMjpeg(s, `${link.mjpeg}&fps=5&width=320`, {}); // signed link, no header
    t.after(() => {
      a.close();
      b.close();
    });
    assert.equal(a.res.statusCode, 200);
    assert.equal(b.res.statusCode, 200);
    assert.match(a.res.headers['content-type'] ?? '', /^multipart\/x-mixed-replace; boundary=/);
    await waitUntil(() => a.parts.length > 0 && b.parts.length > 0, 10_000, 'the first images');
    const firstMs = Math.round(Math.max(a.parts[0]!.at, b.parts[0]!.at));
    // A HEAD of the same (stream, fps, width) neither joins the running decoder nor starts another one.
    assert.equal((await head(s, '/mjpeg/f1/cam1?fps=5&width=320')).status, 200);
    assert.deepEqual(
      ((await get(s, '/api/v1/previews')).json as PreviewList).mjpeg.map((d) => [d.users, d.viewers.length]),
      [[2, 2]],
    );
    await sleep(4000);
    const counted = { decoders: liveChildren(s, 'mjpeg:').length, processes: ffmpegProcesses('image2pipe').length };
    const snapT0 = performance.now();
    const snap = await get(s, '/snapshot/f1/cam1.jpg?width=320');
    const snapMs = Math.round(performance.now() - snapT0);
    const rates = [rate(a.parts, a.parts[0]!.at + 500), rate(b.parts, b.parts[0]!.at + 500)];
    console.log(
      `# MJPEG: first image after ${firstMs} ms; viewers at ${rates.map((r) => r.toFixed(2)).join(' and ')} fps; ` +
        `${counted.decoders} decoder, ${counted.processes} ffmpeg process; cached snapshot in ${snapMs} ms`,
    );
    assert.deepEqual(counted, { decoders: 1, processes: 1 });
    for (const r of rates) assert.ok(r > 4.2 && r < 5.8, `rate ${r}`);
    for (const p of [...a.parts, ...b.parts]) assert.ok(looksLikeJpeg(p.jpeg), 'every part is a whole JPEG');
    const probed = await probeFile(t, tempFile(t, 'part.jpg', a.parts.at(-1)!.jpeg));
    assert.equal(probed.stdout.trim(), 'mjpeg|320|180|1', probed.stderr);
    // The snapshot came from the running decoder's cache: no second decoder, no wait for a new image.
    assert.equal(snap.status, 200);
    assert.match(snap.type, /^image\/jpeg/);
    assert.ok(looksLikeJpeg(snap.body));
    assert.equal(liveChildren(s, 'mjpeg:').length, 1);

    a.close();
    b.close();
    const gone = await waitUntil(() => liveChildren(s, 'mjpeg:').length === 0, 5000, 'the decoder to stop');
    console.log(`# MJPEG: decoder stopped ${Math.round(gone)} ms after the last viewer left (linger 0.5 s)`);
    assert.equal(ffmpegProcesses('image2pipe').length, 0);
  });

  await t.test('a snapshot without a running decoder starts one, returns a 640 px JPEG, and it stops', async () => {
    const t0 = performance.now();
    const snap = await get(s, '/snapshot/f1/cam1.jpg');
    const ms = Math.round(performance.now() - t0);
    assert.equal(snap.status, 200, snap.body.toString().slice(0, 300));
    assert.ok(looksLikeJpeg(snap.body));
    const probed = await probeFile(t, tempFile(t, 'snap.jpg', snap.body));
    assert.equal(probed.stdout.trim(), 'mjpeg|640|360|1', probed.stderr);
    console.log(`# snapshot (cold, decoder started for it): ${ms} ms, ${snap.body.length} bytes`);
    await waitUntil(() => liveChildren(s, 'mjpeg:').length === 0, 5000, 'the snapshot decoder to stop');
  });

  await t.test('a paused viewer skips images (nothing queues up) while another keeps 25 fps', async () => {
    // Big images, so that the loopback socket buffers (several MB) of the paused viewer fill within seconds.
    const q = 'fps=25&width=1920';
    const slow = await openMjpeg(s, `/mjpeg/f1/cam1?${q}`);
    slow.res.pause(); // stops reading: the socket buffers fill, then the server must skip
    const fast = await openMjpeg(s, `/mjpeg/f1/cam1?${q}`);
    t.after(() => {
      slow.close();
      fast.close();
    });
    const rssBefore = process.memoryUsage().rss;
    let maxQueued = 0;
    let last: PreviewList['mjpeg'][number] | undefined;
    const skippedBy = () => Math.max(0, ...(last?.viewers ?? []).map((v) => v.skipped));
    // Until the paused viewer has skipped 25 images (one second of them), at most 15 s.
    for (const deadline = performance.now() + 15_000; performance.now() < deadline && skippedBy() < 25;) {
      await sleep(250);
      const list = (await get(s, '/api/v1/previews')).json as PreviewList;
      last = list.mjpeg.find((d) => d.width === 1920);
      for (const v of last?.viewers ?? []) maxQueued = Math.max(maxQueued, v.queuedBytes);
    }
    const maxPart = Math.max(...fast.parts.map((p) => p.jpeg.length));
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1e6;
    const fastRate = rate(fast.parts, 1500);
    const [paused, steady] = [...(last?.viewers ?? [])].sort((x, y) => y.skipped - x.skipped);
    console.log(
      `# MJPEG slow viewer: fast viewer ${fastRate.toFixed(2)} fps; paused viewer sent ${paused?.sent} skipped ` +
        `${paused?.skipped}; max queued ${maxQueued} bytes (largest image ${maxPart}); rss +${rssGrowthMb.toFixed(1)} MB`,
    );
    assert.equal(last?.users, 2);
    assert.equal(liveChildren(s, 'mjpeg:').length, 1);
    assert.ok(paused && paused.skipped >= 25, 'the paused viewer skips');
    assert.ok(fastRate > 20, `the other viewer keeps its rate: ${fastRate}`);
    // The reader shares this process (and its event loop) with the server, so it may lag now and then.
    assert.ok(steady && steady.skipped <= steady.sent * 0.05, `the reading viewer skips (almost) nothing`);
    // The server never holds more than about two images for the paused viewer (the kernel's buffers aside).
    assert.ok(maxQueued <= 2 * maxPart + 1024, `queued ${maxQueued} bytes: at most ~2 images in user space`);
  });

  await t.test('stopping the core with viewers attached ends their responses and leaves no decoder', async () => {
    const viewer = await openMjpeg(s, '/mjpeg/f1/cam1?fps=2&width=160');
    t.after(() => viewer.close());
    await waitUntil(() => viewer.parts.length > 0, 10_000, 'an image');
    const ended = new Promise<void>((resolve) => viewer.res.once('close', () => resolve()));
    await s.tc.core.stop('test');
    await ended;
    assert.equal(ffmpegProcesses('image2pipe').length, 0);
  });
});
