/**
 * F2 of a running slave: compressors publish with ANNOUNCE/RECORD over TCP and UDP with an API token, ffprobe and
 * GStreamer (TCP and UDP) read both streams back; read-only credentials cannot publish, and the refusal is counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaCounters } from '../../../app/media/worker/protocol.js';
import type { BusEvent } from '../../../app/defs/events.js';
import { api } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import { assertGstRead, FFMPEG, gstRead, probe, publisherArgs, spawnPeer } from '../rtsp/peers.js';
import { PROBE_TCP, rtspUrl, startSlave, streams, token, waitOnline } from './slave.js';

/** An `rtsp.users` entry that may read every path and publish none. */
const VIEWER = { user: 'viewer', password: 'viewer-password-1', read: ['*'], publish: [] as string[] };
const viewerCred = { id: VIEWER.user, secret: VIEWER.password };

test('a token publishes H.264+AAC on F2 over TCP and over UDP; ffprobe and GStreamer over TCP and UDP read both', async (t) => {
  const s = await startSlave(t);
  const cred = await token(s, 'compressor');
  const transports = ['tcp', 'udp'] as const;
  const pubs = transports.map((tr) => spawnPeer(t, FFMPEG, publisherArgs(rtspUrl(s, 'f2', `via-${tr}`, cred), tr)));
  for (const tr of transports) await waitOnline(s, 'f2', `via-${tr}`);

  // The worker says how each publisher sends RTP: the UDP publish really is UDP (no fallback to interleaved).
  let listed = await streams(s);
  for (let i = 0; i < 30 && listed.filter((x) => x.plane === 'f2' && x.stats.packetsIn > 0).length < 2; i++) {
    await new Promise((r) => setTimeout(r, 300));
    listed = await streams(s);
  }
  for (const tr of transports) {
    const st = listed.find((x) => x.plane === 'f2' && x.stats.path === `via-${tr}`);
    assert.ok(st, `via-${tr} listed: ${JSON.stringify(listed)}`);
    assert.equal(st.stats.publisher?.transport, tr);
    assert.deepEqual(
      st.stats.tracks.map((x) => x.codec.toUpperCase()),
      ['H264', 'MPEG4-GENERIC'],
    );
  }

  for (const tr of transports) {
    const read = await probe(t, rtspUrl(s, 'f2', `via-${tr}`, cred), PROBE_TCP);
    assert.equal(read.code, 0, `ffprobe via-${tr}: ${read.stderr}`);
    assert.match(read.stdout, /codec_name=h264\|width=640\|height=360/, `via-${tr}`);
    assert.match(read.stdout, /codec_name=aac/, `via-${tr}`);
  }

  // Four GStreamer readers at once (each publish × each read transport), each decoding 100 frames.
  const gst = transports.flatMap((pubTr) =>
    transports.map((readTr) => ({
      what: `published over ${pubTr}, read by gst over ${readTr}`,
      peer: gstRead(t, rtspUrl(s, 'f2', `via-${pubTr}`, cred), readTr),
    })),
  );
  for (const g of gst) assertGstRead(t, await g.peer.done, g.what);
  for (const [i, p] of pubs.entries()) assert.ok(p.running(), `the ${transports[i]} publisher kept publishing`);
});

test('read-only credentials cannot publish on F2: 403, media.auth-failed; they still read', async (t) => {
  const s = await startSlave(t, { fileValues: { rtsp: { users: [VIEWER] } } });
  const cred = await token(s, 'compressor');
  spawnPeer(t, FFMPEG, publisherArgs(rtspUrl(s, 'f2', 'cam1', cred), 'tcp'));
  await waitOnline(s, 'f2', 'cam1');

  const refusals = (): BusEvent[] => s.events.filter((e) => e.type === 'media.auth-failed');
  for (const tr of ['tcp', 'udp'] as const) {
    const denied = await spawnPeer(t, FFMPEG, publisherArgs(rtspUrl(s, 'f2', `ro-${tr}`, viewerCred), tr)).done;
    assert.notEqual(denied.code, 0, `a read-only user published over ${tr}`);
    assert.match(denied.stderr, /403/, `refused with 403 over ${tr}`);
  }
  await waitUntil(() => refusals().length >= 2, 5000, 'two media.auth-failed');
  for (const tr of ['tcp', 'udp']) {
    const e = refusals().find((x) => (x.data as { path: string }).path === `ro-${tr}`);
    assert.ok(e, `refusal of ro-${tr} reported: ${JSON.stringify(refusals().map((x) => x.data))}`);
    assert.deepEqual(
      { ...(e.data as object), remote: undefined },
      {
        plane: 'f2',
        path: `ro-${tr}`,
        remote: undefined,
        reason: 'forbidden',
      },
    );
  }
  assert.ok(
    !s.events.some((e) => e.type === 'stream.online' && (e.data as { path: string }).path.startsWith('ro-')),
    'nothing went online for a refused publisher',
  );

  // The same credentials read (so the refusal is about the right, not the password).
  const read = await probe(t, rtspUrl(s, 'f2', 'cam1', viewerCred), PROBE_TCP);
  assert.equal(read.code, 0, read.stderr);
  assert.match(read.stdout, /codec_name=h264/);

  // Counted where an operator sees it: the worker sends its port totals to the core every 2 s.
  await t.test('the refusal is counted in /api/v1/streams and /metrics', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const res = await api(s.tc.url, '/api/v1/streams', { token: s.admin });
    const { counters } = res.json as { counters: MediaCounters };
    assert.ok(counters.f2.authForbidden >= 1, JSON.stringify(counters.f2));
    assert.equal(counters.f1.authForbidden, 0);
    const metrics = (await api(s.tc.url, '/metrics', { token: s.admin })).text;
    assert.match(metrics, /^cupola_media_events_total\{port="f2",kind="auth_forbidden"\} [1-9]/m);
  });
});
