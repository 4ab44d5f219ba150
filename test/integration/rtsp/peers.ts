/**
 * Real peers for the RTSP integration tests: an in-process RtspServer on loopback, and ffmpeg / ffprobe /
 * gst-launch-1.0 children that are killed (with their process group) in t.after.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { silentLogger } from '../../../app/log/logger.js';
import { RtspServer } from '../../../app/media/rtsp/index.js';
import type { Authorize, AuthorizeRequest, RtspLimits } from '../../../app/media/rtsp/index.js';
import { waitUntil } from '../../helpers/processes.js';
import type { Scope } from '../../helpers/core.js';
import { spawnPeer, trackPeer, type Peer, type PeerResult } from '../../helpers/peers.js';

export { spawnPeer, type Peer, type PeerResult } from '../../helpers/peers.js';

export const FFMPEG = '/usr/bin/ffmpeg';
export const FFPROBE = '/usr/bin/ffprobe';
export const GST = '/usr/bin/gst-launch-1.0';

/** Options of startServer. */
export interface TestServerOptions {
  authorize?: Authorize;
  limits?: Partial<RtspLimits>;
  udp?: boolean;
}

/** A started server on 127.0.0.1 with free TCP and UDP ports, stopped in t.after. */
export async function startServer(scope: Scope, opts: TestServerOptions = {}): Promise<RtspServer> {
  const server = new RtspServer({
    port: 0,
    host: '127.0.0.1',
    log: silentLogger(),
    authorize: opts.authorize ?? (() => 'ok'),
    udpRtpPort: opts.udp === false ? false : 0,
    limits: opts.limits ?? {},
  });
  await server.start();
  scope.after(() => server.stop());
  return server;
}

/** Starts `ffmpeg` publishing a test pattern with audio to `url` and waits until `path` is online and flowing. */
export async function publishTestStream(
  scope: Scope,
  server: RtspServer,
  path: string,
  transport: 'tcp' | 'udp',
  url = `rtsp://127.0.0.1:${server.port}/${path}`,
): Promise<Peer> {
  const peer = spawnPeer(scope, FFMPEG, publisherArgs(url, transport));
  // Online and flowing: readers that join get RTP (and RTP-Info) at once.
  const flowing = (): boolean => server.paths().some((p) => p.path === path && p.packetsIn > 50);
  await waitUntil(() => flowing() || !peer.running(), 15_000, `${path} online`);
  if (!peer.running()) assert.fail(`publisher exited: ${(await peer.done).stderr.slice(-2000)}`);
  return peer;
}

/** The ffmpeg arguments of the reference publisher (H.264 640x360 25 fps, GOP 1 s, AAC 48 kHz). */
export function publisherArgs(url: string, transport: 'tcp' | 'udp'): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'aac'],
    ...['-f', 'rtsp', '-rtsp_transport', transport, url],
  ];
}

/** What an ffmpeg read reports. */
export interface ReadReport {
  result: PeerResult;
  /** ffmpeg's own last `speed=` (includes the start-up burst). */
  speed: number;
  /** Media time over wall time in the second half of the read: steady-state flow, ≈ 1 for a live stream. */
  steadyRate: number;
  frames: number;
  outTimeS: number;
}

/** Starts an ffmpeg read of `seconds` to a null sink with -progress; `transport` is RTSP's (none for RTMP). */
export function ffmpegRead(scope: Scope, url: string, transport: 'tcp' | 'udp' | null, seconds: number): Peer {
  const rtsp = transport ? ['-rtsp_transport', transport] : [];
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', ...rtsp, '-i', url];
  return spawnPeer(scope, FFMPEG, [
    ...args,
    '-t',
    String(seconds),
    '-f',
    'null',
    '-',
    '-progress',
    'pipe:1',
    '-nostats',
  ]);
}

/** Parses the -progress output of a finished read. */
export function readReport(result: PeerResult): ReadReport {
  const blocks: { at: number; outUs: number; speed: number; frame: number }[] = [];
  let cur = { outUs: 0, speed: 0, frame: 0 };
  for (const { at, line } of result.lines) {
    const [key, value = ''] = line.trim().split('=');
    if (key === 'out_time_us') cur.outUs = Number(value) || 0;
    else if (key === 'speed') cur.speed = parseFloat(value) || 0;
    else if (key === 'frame') cur.frame = Number(value) || 0;
    else if (key === 'progress') {
      blocks.push({ at, ...cur });
      cur = { ...cur };
    }
  }
  const last = blocks[blocks.length - 1] ?? { at: 0, outUs: 0, speed: 0, frame: 0 };
  // The second half of the read: the first seconds include ffmpeg's probing and the catch-up burst after it.
  const first = blocks.find((b) => b.at >= last.at / 2) ?? blocks[0] ?? last;
  const wall = (last.at - first.at) / 1000;
  const steadyRate = wall > 0 ? (last.outUs - first.outUs) / 1e6 / wall : 0;
  return { result, speed: last.speed, steadyRate, frames: last.frame, outTimeS: last.outUs / 1e6 };
}

/** Asserts a clean real-time read: exit 0, nothing on stderr at -loglevel error, speed and steady rate ≈ 1. */
export function assertRealtimeRead(report: ReadReport, seconds: number, what: string): void {
  const { result } = report;
  const detail = `${what}: code=${result.code} speed=${report.speed} steady=${report.steadyRate.toFixed(3)} stderr=${result.stderr.slice(-1500)}`;
  assert.equal(result.code, 0, detail);
  assert.equal(result.stderr.trim(), '', `decode/transport errors: ${detail}`);
  assert.ok(report.outTimeS >= seconds - 0.5, `read ${report.outTimeS}s of ${seconds}s: ${detail}`);
  assert.ok(report.speed >= 0.9, `speed: ${detail}`);
  assert.ok(report.steadyRate >= 0.85 && report.steadyRate <= 1.15, `steady rate: ${detail}`);
}

/** gst-launch-1.0 reading H.264 over `protocols` and decoding 100 frames. */
/**
 * gst-launch-1.0 decoding 100 H.264 pictures of `url`: not -q, so that it prints the pipeline's EOS (posted once the
 * sink has had its 100 buffers), and with rtspsrc's debug log, which assertGstRead reads.
 */
export function gstRead(scope: Scope, url: string, protocols: 'tcp' | 'udp'): Peer {
  const pipeline = ['rtspsrc', `location=${url}`, `protocols=${protocols}`, '!', 'rtph264depay', '!', 'h264parse'];
  const args = [...pipeline, '!', 'avdec_h264', '!', 'fakesink', 'num-buffers=100'];
  const env = { ...process.env, GST_DEBUG: 'rtspsrc:5', GST_DEBUG_NO_COLOR: '1' };
  return trackPeer(scope, spawn(GST, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
}

/**
 * GStreamer decoded the 100 pictures (the pipeline's EOS) and exited 0, or failed only by rtspsrc's own race on the
 * way down (GStreamer 1.22): after EOS gst-launch sets the pipeline to NULL; PLAYING→PAUSED hands a PAUSE to
 * rtspsrc's task, and PAUSED→READY at once sends it CMD_CLOSE, which cancels the connection while that PAUSE is being
 * written ("connection flush busy PAUSE", gst_rtspsrc_loop_send_cmd). The cancelled write comes back as
 * GST_RTSP_EEOF (writev_bytes in gstrtspconnection.c maps any error with nothing written to EEOF), and rtspsrc posts
 * it as the ERROR "Could not send message. (Received end-of-file)": the PAUSE never reached the server. Measured with
 * both cores busy: 84 of 200 reads had their PAUSE interrupted, 6 of them lost the race. Any other error fails.
 */
export function assertGstRead(t: { diagnostic(s: string): void }, result: PeerResult, what = 'gst'): void {
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('ERROR:'));
  const output = `${result.stdout.slice(-1500)}\n${errors.join('\n')}\n${result.stderr.slice(-1500)}`;
  assert.match(result.stdout, /Got EOS from element "pipeline0"/, `${what} did not reach EOS: ${output}`);
  if (result.code === 0) return;
  const ownPause =
    result.stderr.includes('connection flush busy PAUSE') &&
    /gst_rtspsrc_pause \(\): .*\n.*Could not send message\. \(Received end-of-file\)/.test(result.stderr) &&
    errors.length > 0 &&
    errors.every((line) => line.includes('GstRTSPSrc:rtspsrc0: Could not write to resource.'));
  assert.ok(ownPause, `${what} failed (exit ${result.code}): ${output}`);
  t.diagnostic(`${what}: EOS reached, then rtspsrc cancelled its own PAUSE on the way down (exit ${result.code})`);
}

/** ffprobe's view of the streams: `codec_name,width,height` per stream. */
export async function probe(scope: Scope, url: string, extra: string[] = []): Promise<PeerResult> {
  const args = ['-hide_banner', '-v', 'error', ...extra, '-show_entries', 'stream=codec_name,width,height'];
  return spawnPeer(scope, FFPROBE, [...args, '-of', 'compact', url]).done;
}

/** Users of a test policy: a password and whether they may publish. */
export type TestUsers = Record<string, { password: string; publish: boolean }>;

/**
 * The policy a role would implement, over `users`: unknown user or wrong password → unauthorized; no right →
 * forbidden. Every request is recorded in `seen`.
 */
export function userPolicy(users: TestUsers, seen: AuthorizeRequest[]): Authorize {
  return (req) => {
    seen.push(req);
    const user = req.user === undefined ? undefined : users[req.user];
    if (!user || !req.checkPassword(user.password)) return 'unauthorized';
    return req.action === 'publish' && !user.publish ? 'forbidden' : 'ok';
  };
}
