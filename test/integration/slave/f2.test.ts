/**
 * F2 of a running slave: compressors publish with ANNOUNCE/RECORD over TCP and UDP with an API token, ffprobe and
 * GStreamer (TCP and UDP) read both streams back; read-only credentials cannot publish, a leased camera's F2 takes
 * only the lease's token and the lease's own RTSP credential (which has no other right and ends with the lease), and
 * the refusals are counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaCounters } from '../../../app/media/worker/protocol.js';
import type { LeaseRtspCredential } from '../../../app/defs/camera.js';
import type { BusEvent } from '../../../app/defs/events.js';
import { api } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import { assertGstRead, FFMPEG, gstRead, probe, publisherArgs, spawnPeer } from '../rtsp/peers.js';
import { addCamera, PROBE_TCP, rtspUrl, startSlave, streams, token, waitOnline } from './slave.js';

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

test('read-only credentials cannot publish on F2 but read; a leased F2 takes only its token; 403s are counted', async (t) => {
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

  // A lease (app/cameras/leases.ts) narrows publishing F2 `gate` to the token that claimed it: another valid token is
  // refused while it runs and gets the path once it is released or has expired; the publisher it replaces is ended
  // by the takeover and cannot come back while the new lease runs.
  await addCamera(s, 'gate');
  const other = await token(s, 'compressor-2');
  const claim = (who: { secret: string }, holder: string, ttlS: number) =>
    api(s.tc.url, '/api/v1/leases/gate', { method: 'PUT', token: who.secret, body: { holder, ttlS } });
  const publishGate = (who: { id: string; secret: string }) =>
    spawnPeer(t, FFMPEG, publisherArgs(rtspUrl(s, 'f2', 'gate', who), 'tcp'));
  const refusedWith403 = async (who: { id: string; secret: string }, what: string) => {
    const peer = publishGate(who);
    await waitUntil(() => !peer.running(), 10_000, `${what} refused`);
    const r = await peer.done;
    assert.notEqual(r.code, 0, `${what} published F2 gate`);
    assert.match(r.stderr, /403/, `${what} was refused with 403`);
  };
  const endedBy = (peer: { running(): boolean }, what: string) => waitUntil(() => !peer.running(), 10_000, what);

  // The claim answers with the lease's own RTSP credential: the holder publishes with it (ffmpeg answers Digest).
  const leaseCred = async (res: Promise<{ status: number; json: unknown }>) => {
    const r = await res;
    assert.equal(r.status, 200);
    const { rtsp } = r.json as { rtsp: LeaseRtspCredential };
    return { id: rtsp.user, secret: rtsp.password };
  };
  const refusedWith = async (peer: ReturnType<typeof spawnPeer>, status: RegExp, what: string) => {
    await waitUntil(() => !peer.running(), 10_000, `${what} refused`);
    const r = await peer.done;
    assert.notEqual(r.code, 0, `${what} was not refused`);
    assert.match(r.stderr, status, `${what}: ${status}`);
  };
  const lease1 = await leaseCred(claim(cred, 'comp-1', 30));
  const first = publishGate(lease1);
  await waitOnline(s, 'f2', 'gate');
  await refusedWith403(other, 'a token without the lease');
  // The lease credential has no other right: not another camera's F2 (cam1, not leased), not reading its own F2.
  const elsewhere = spawnPeer(t, FFMPEG, publisherArgs(rtspUrl(s, 'f2', 'cam1', lease1), 'tcp'));
  await refusedWith(elsewhere, /403/, "the lease credential publishing another camera's F2");
  const ownF2 = await probe(t, rtspUrl(s, 'f2', 'gate', lease1), PROBE_TCP);
  assert.notEqual(ownF2.code, 0, 'the lease credential read F2');
  assert.match(ownF2.stderr, /403/);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(first.running(), "the holder's publish was not taken over");

  const released = await api(s.tc.url, '/api/v1/leases/gate?holder=comp-1', { method: 'DELETE', token: cred.secret });
  assert.equal(released.status, 204);
  const second = publishGate(other);
  await endedBy(first, 'the released holder is taken over by the other token');
  assert.ok(second.running(), 'the other token publishes F2 gate after the release');
  await refusedWith(publishGate(lease1), /401/, 'the credential of the released lease');

  const lease2 = await leaseCred(claim(other, 'comp-2', 30));
  await refusedWith403(cred, 'the former holder, now without the lease,');
  assert.equal((await claim(other, 'comp-2', 2)).status, 200, 'renewed for 2 s, then left to expire');
  const expired = (e: BusEvent) => e.type === 'lease.expired' && (e.data as { cameraId: string }).cameraId === 'gate';
  await waitUntil(() => s.events.some(expired), 5000, 'the lease of gate expired');
  await refusedWith(publishGate(lease2), /401/, 'the credential of the expired lease');
  const third = publishGate(cred);
  await endedBy(second, 'the expired holder is taken over');
  assert.ok(third.running(), 'the former holder publishes again once the lease expired');

  const gateRefusals = refusals()
    .map((e) => e.data as { path: string; reason: string })
    .filter((d) => d.path === 'gate')
    .map((d) => d.reason);
  assert.deepEqual(gateRefusals, [
    'forbidden: leased to comp-1',
    'forbidden',
    'unauthorized',
    'forbidden: leased to comp-2',
    'unauthorized',
  ]);
  const gateEvents = s.events.filter((e) => (e.data as { path?: string }).path === 'gate').map((e) => e.type);
  assert.deepEqual(gateEvents, ['stream.online', ...gateRefusals.map(() => 'media.auth-failed')], 'never offline');

  // Counted where an operator sees it: the worker sends its port totals to the core every 2 s.
  await t.test('the refusals are counted in /api/v1/streams and /metrics', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const res = await api(s.tc.url, '/api/v1/streams', { token: s.admin });
    const { counters } = res.json as { counters: MediaCounters };
    assert.ok(counters.f2.authForbidden >= 4, JSON.stringify(counters.f2));
    assert.equal(counters.f2.leaseRefused, 2, JSON.stringify(counters.f2));
    assert.equal(counters.f1.authForbidden, 0);
    const metrics = (await api(s.tc.url, '/metrics', { token: s.admin })).text;
    assert.match(metrics, /^cupola_media_events_total\{port="f2",kind="auth_forbidden"\} [4-9]/m);
    assert.match(metrics, /^cupola_media_events_total\{port="f2",kind="lease_refused"\} 2$/m);
    // Three publishers fed the path, each taking it over from the last; the refused ones never did.
    const gate = (await streams(s)).find((x) => x.plane === 'f2' && x.stats.path === 'gate');
    assert.equal(gate?.stats.publishers, 3, JSON.stringify(gate?.stats));
  });
});
