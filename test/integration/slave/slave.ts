/**
 * The fixture of the slave integration tests: a core in the slave role (media plane in its supervised worker, on
 * free loopback ports), its bus events, API tokens as RTSP credentials, push cameras and the worker's pid.
 */
import assert from 'node:assert/strict';
import type { BusEvent } from '../../../app/defs/events.js';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { PlaneStream } from '../../../app/media/worker/protocol.js';
import { login, startCore, type Scope, type StartCoreOptions, type TestCore } from '../../helpers/core.js';
import { api } from '../../helpers/http.js';
import { waitUntil } from '../../helpers/processes.js';
import { FFMPEG, publishArgs } from '../rtmp/peers.js';
import { spawnPeer, type Peer } from '../rtsp/peers.js';

/** A running slave. */
export interface Slave {
  tc: TestCore;
  /** An admin access token for the API. */
  admin: string;
  media: NonNullable<NodeInfo['media']>;
  /** Every bus event since start-up (the first media.started excluded). */
  events: BusEvent[];
}

/** Starts a core in the slave role (extra core options merged in); stopped in `after`. */
export async function startSlave(scope: Scope, opts: StartCoreOptions = {}): Promise<Slave> {
  const tc = await startCore(scope, { ...opts, flags: { 'node.role': 'slave', ...opts.flags } });
  const events: BusEvent[] = [];
  scope.after(tc.core.bus.onAny((e) => events.push(e)));
  const admin = (await login(tc.url)).accessToken;
  const node = (await api(tc.url, '/api/v1/node', { token: admin })).json as NodeInfo;
  assert.ok(node.media, 'a slave reports its media ports');
  assert.ok(node.media.f1Port > 0 && node.media.f2Port > 0 && node.media.f1Port !== node.media.f2Port);
  return { tc, admin, media: node.media, events };
}

/** An API token (id and secret): the RTSP password of readers and of F2 publishers. */
export async function token(s: Slave, name: string): Promise<{ id: string; secret: string }> {
  const res = await api(s.tc.url, '/api/v1/tokens', { token: s.admin, body: { name } });
  assert.equal(res.status, 201, res.text);
  const body = res.json as { token: { id: string }; secret: string };
  return { id: body.token.id, secret: body.secret };
}

/** GET /api/v1/streams: the streams of both planes as the worker last reported them (every 2 s). */
export async function streams(s: Slave): Promise<PlaneStream[]> {
  return ((await api(s.tc.url, '/api/v1/streams', { token: s.admin })).json as { streams: PlaneStream[] }).streams;
}

/** The pid of the media-plane worker (asserts it runs). */
export function workerPid(s: Slave): number {
  const child = s.tc.core.children().find((c) => c.name === 'media-plane');
  assert.ok(child?.pid, 'media-plane worker is running');
  return child.pid;
}

/** The ffmpeg arguments of a push camera: the RTMP reference publisher (H.264 640x360 25 fps GOP 1 s + AAC). */
export const rtmpPushArgs = (url: string): string[] => publishArgs(url);

/** Waits for `stream.online` of `path` on `plane`. */
export async function waitOnline(s: Slave, plane: 'f1' | 'f2', path: string, timeoutMs = 15_000): Promise<void> {
  const match = (e: BusEvent) => {
    const d = e.data as { plane?: string; path?: string };
    return e.type === 'stream.online' && d.plane === plane && d.path === path;
  };
  await waitUntil(() => s.events.some(match), timeoutMs, `${plane} ${path} online`);
}

/** Creates the push camera `id` through the API; returns its grant. */
export async function addCamera(s: Slave, id: string): Promise<{ publishKey: string; publishUrl: string }> {
  const created = await api(s.tc.url, '/api/v1/cameras', {
    token: s.admin,
    body: { id, name: id, source: { kind: 'rtmp-push' } },
  });
  assert.equal(created.status, 201, created.text);
  return (created.json as { grant: { publishKey: string; publishUrl: string } }).grant;
}

/**
 * Creates the push camera `id`, starts ffmpeg pushing to it (the live reference publisher unless `args` builds
 * another command line from the publish URL) and waits until F1 serves it.
 */
export async function pushCamera(
  scope: Scope,
  s: Slave,
  id: string,
  args: (publishUrl: string) => string[] = rtmpPushArgs,
): Promise<Peer> {
  const grant = await addCamera(s, id);
  await new Promise((r) => setTimeout(r, 200)); // the access tables reach the worker over IPC
  const cam = spawnPeer(scope, FFMPEG, args(grant.publishUrl));
  await waitOnline(s, 'f1', id);
  return cam;
}

/** `rtsp://<user>:<password>@127.0.0.1:<port>/<path>` on F1 or F2. */
export function rtspUrl(s: Slave, plane: 'f1' | 'f2', path: string, cred?: { id: string; secret: string }): string {
  const port = plane === 'f1' ? s.media.f1Port : s.media.f2Port;
  const auth = cred ? `${encodeURIComponent(cred.id)}:${encodeURIComponent(cred.secret)}@` : '';
  return `rtsp://${auth}127.0.0.1:${port}/${path}`;
}

/** ffprobe options for RTSP reads in these tests: TCP, and a socket timeout so that a stalled read ends (10 s). */
export const PROBE_TCP = ['-rtsp_transport', 'tcp', '-timeout', '10000000'];

/** Reads `url` over TCP for `seconds` of media without decoding (-c copy to the null muxer), with -progress. */
export function copyRead(scope: Scope, url: string, seconds: number): Peer {
  const input = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url];
  const output = ['-t', String(seconds), '-c', 'copy', '-f', 'null', '-', '-progress', 'pipe:1', '-nostats'];
  return spawnPeer(scope, FFMPEG, [...input, ...output]);
}
