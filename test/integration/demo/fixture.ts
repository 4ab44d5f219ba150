/**
 * The fixture of the demo tests: the demo topology started in this process (its nodes are the built CLI, as
 * `npm run demo` runs them), the master's API as admin, a viewer token of the master, and readers of its previews.
 */
import assert from 'node:assert/strict';
import type { PeerHealth } from '../../../app/defs/peer.js';
import { Demo, type DemoInfo, type DemoOptions } from '../../../app/demo/demo.js';
import type { MasterRelay } from '../../../app/roles/master.js';
import { silentLogger } from '../../../app/log/logger.js';
import { checkBuild, CLI, login, type Scope } from '../../helpers/core.js';
import { api } from '../../helpers/http.js';
import { descendantsOf } from '../../helpers/processes.js';
import { openMjpegAt, rate, type MjpegReader } from '../previews/fixture.js';

/** A running demo and what the tests need of its master. */
export interface DemoRun {
  demo: Demo;
  info: DemoInfo;
  /** Status lines the demo said. */
  said: string[];
  /** The master's API base URL and an admin access token for it. */
  master: string;
  admin: string;
  /** The master's viewer token: RTMP `?token=`, RTSP password; `user` is its id (the RTSP Digest user name). */
  viewer: { user: string; secret: string };
}

/**
 * Starts the demo with free ports everywhere and the built CLI for its nodes; stopped in `after`. Nodes that die are
 * restarted only after `nodeRestartDelayMs` (default 60 s), so that a test sees them down.
 */
export async function startDemo(scope: Scope, opts: Partial<DemoOptions> = {}): Promise<DemoRun> {
  checkBuild();
  const said: string[] = [];
  const demo = new Demo({
    cameras: 2,
    sites: 2,
    port: 0,
    usualMediaPorts: false,
    serve: { command: process.execPath, args: [CLI] },
    nodeRestartDelayMs: 60_000,
    say: (line) => said.push(line),
    log: silentLogger(),
    ...opts,
  });
  scope.after(() => demo.stop());
  const info = await demo.start();
  const master = info.master.url;
  const admin = (await login(master, info.adminPassword)).accessToken;
  return { demo, info, said, master, admin, viewer: { user: info.viewerToken.slice(4, 16), secret: info.viewerToken } };
}

/** `rtmp://…/<path>?token=` of the master (F1). */
export const rtmpUrl = (r: DemoRun, path: string): string =>
  `rtmp://127.0.0.1:${r.info.master.ports.rtmp}/${path}?token=${r.viewer.secret}`;

/** `rtsp://<id>:<token>@…/<path>` of the master on F1 or F2. */
export const rtspUrl = (r: DemoRun, plane: 'f1' | 'f2', path: string): string =>
  `rtsp://${r.viewer.user}:${r.viewer.secret}@127.0.0.1:${plane === 'f1' ? r.info.master.ports.f1 : r.info.master.ports.f2}/${path}`;

/** GET /api/v1/peers of the master. */
export async function peers(r: DemoRun): Promise<PeerHealth[]> {
  const res = await api(r.master, '/api/v1/peers', { token: r.admin });
  assert.equal(res.status, 200, res.text);
  return (res.json as { peers: PeerHealth[] }).peers;
}

/** GET /api/v1/relays of the master. */
export async function relays(r: DemoRun): Promise<MasterRelay[]> {
  const res = await api(r.master, '/api/v1/relays', { token: r.admin });
  assert.equal(res.status, 200, res.text);
  return (res.json as { relays: MasterRelay[] }).relays;
}

/** True when both relays (F1, F2) of `path` play on the master. */
export async function relayed(r: DemoRun, path: string): Promise<boolean> {
  const list = await relays(r);
  return ['f1', 'f2'].every((p) => list.some((x) => x.plane === p && x.path === path && x.state === 'playing'));
}

/** `GET path` on the master with the admin's token, as a Buffer. */
export async function get(r: DemoRun, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(`${r.master}${path}`, { headers: { authorization: `Bearer ${r.admin}` } });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** The pid of the master's media-plane worker (the process that holds the relays). */
export function masterPlanePid(r: DemoRun): number {
  const masterPid = r.demo.nodePid(r.info.master.name);
  assert.ok(masterPid, 'the master runs');
  const worker = descendantsOf(masterPid).find((p) => p.argv.some((a) => /media[/\\]worker[/\\]main\.[jt]s$/.test(a)));
  assert.ok(worker, 'the master runs a media-plane worker');
  return worker.pid;
}

/** ffmpeg processes below the master's process whose argv contains `word` (previews: `pipe:3` = MJPEG). */
export function masterFfmpegs(r: DemoRun, word: string): number[] {
  const masterPid = r.demo.nodePid(r.info.master.name);
  assert.ok(masterPid, 'the master runs');
  return descendantsOf(masterPid)
    .filter((p) => p.argv.some((a) => /(^|\/)ffmpeg$/.test(a)) && p.argv.some((a) => a.includes(word)))
    .map((p) => p.pid);
}

/** Opens `GET path` (a /mjpeg/ URL) on the master as the admin (parts as the previews tests parse them). */
export function openMjpeg(r: DemoRun, path: string): Promise<MjpegReader> {
  return openMjpegAt(`${r.master}${path}`, { authorization: `Bearer ${r.admin}` });
}

export { rate, type MjpegReader };

/** The `#EXTINF` durations and URIs of a media playlist. */
export function segmentsOf(playlist: string): { duration: number; uri: string }[] {
  const lines = playlist.split('\n').map((l) => l.trim());
  const out: { duration: number; uri: string }[] = [];
  lines.forEach((line, i) => {
    const m = /^#EXTINF:([\d.]+),/.exec(line);
    const uri = m ? lines.slice(i + 1).find((l) => l && !l.startsWith('#')) : undefined;
    if (m && uri) out.push({ duration: Number(m[1]), uri });
  });
  return out;
}
