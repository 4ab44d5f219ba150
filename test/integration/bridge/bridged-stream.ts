/**
 * Integration helper: ffmpeg encodes a live test pattern to FLV on its stdout, the test reads the FLV tags and feeds
 * them into an FlvToRtpBridge whose sink is a real RtspServer path: the same hand-over an RTMP server would do.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { silentLogger } from '../../../app/log/logger.js';
import { FlvToRtpBridge } from '../../../app/media/bridge/index.js';
import type { RtspServer } from '../../../app/media/rtsp/index.js';
import type { Scope } from '../../helpers/core.js';
import { killAll, waitUntil } from '../../helpers/processes.js';
import { FlvReader } from './flv-reader.js';

export const FFMPEG = '/usr/bin/ffmpeg';

/** ffmpeg inputs + encoders of the reference camera: 640x360 25 fps, GOP 1 s, AAC 48 kHz (as the brief's command). */
export const CAMERA_ARGS = [
  ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'],
  ...['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000'],
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'aac'],
];

/** A running bridged stream. */
export interface BridgedStream {
  bridge: FlvToRtpBridge;
  /** ffmpeg's stderr so far (errors only, -loglevel error). */
  stderr(): string;
}

/**
 * Starts ffmpeg (`-re`, so in real time) with `encodeArgs` writing FLV to stdout, bridges it into `path` of `server`,
 * and waits until the path is online and RTP is flowing. ffmpeg's group is killed and the bridge closed in t.after.
 */
export async function startBridgedStream(
  scope: Scope,
  server: RtspServer,
  path: string,
  encodeArgs: string[] = CAMERA_ARGS,
): Promise<BridgedStream> {
  const bridge = new FlvToRtpBridge({ path, publish: (p, sdp) => server.publish(p, sdp), log: silentLogger() });
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', ...encodeArgs, '-f', 'flv', 'pipe:1'];
  const child = spawn(FFMPEG, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid!;
  let stderr = '';
  let exited = false;
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.on('exit', () => (exited = true));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s.slice(0, 20_000)));
  const reader = new FlvReader();
  child.stdout.on('data', (chunk: Buffer) => {
    for (const tag of reader.push(chunk)) bridge.onTag(tag.type, tag.timestamp, tag.body);
  });
  scope.after(async () => {
    bridge.close();
    if (!exited) killAll([pid]);
    await closed;
  });
  const flowing = () => server.paths().some((p) => p.path === path && p.packetsIn > 50);
  await waitUntil(() => flowing() || exited, 15_000, `${path} bridged and flowing`);
  if (exited) assert.fail(`ffmpeg exited: ${stderr.slice(-2000)}`);
  assert.equal(reader.error, undefined);
  return { bridge, stderr: () => stderr };
}
