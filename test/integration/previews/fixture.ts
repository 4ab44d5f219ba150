/**
 * The fixture of the preview tests: a real core in the slave role with one push camera (the reference publisher:
 * H.264 640x360 25 fps, GOP 1 s), short preview timers, an MJPEG multipart reader and process counting via /proc.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildStatus } from '../../../app/defs/child.js';
import { dbQuery, tempDir, type Scope } from '../../helpers/core.js';
import { descendantsOf, type ProcInfo } from '../../helpers/processes.js';
import { spawnPeer, type Peer, type PeerResult } from '../../helpers/peers.js';
import { FFMPEG, FFPROBE } from '../rtsp/peers.js';
import { pushCamera, rtmpPushArgs, startSlave, type Slave } from '../slave/slave.js';

export { FFMPEG, FFPROBE };

/** A preview slave with its camera: the publisher process and the RTMP URL it publishes to (to restart it). */
export interface PreviewSlave extends Slave {
  camera: Peer;
  publishUrl: string;
}

/** A slave with camera `cam1` pushing; HLS muxers stop 2 s after the last request, MJPEG decoders 0.5 s after. */
export async function startPreviewSlave(scope: Scope, flags: Record<string, string> = {}): Promise<PreviewSlave> {
  const s = await startSlave(scope, {
    flags: { 'previews.hlsIdleS': '2', 'previews.mjpegLingerMs': '500', ...flags },
  });
  let publishUrl = '';
  const camera = await pushCamera(scope, s, 'cam1', (url) => rtmpPushArgs((publishUrl = url)));
  return { ...s, camera, publishUrl };
}

/** Supervised children whose name starts with `prefix` (`hls:`, `mjpeg:`) and that have a process now. */
export function liveChildren(s: Slave, prefix: string): ChildStatus[] {
  return s.tc.core.children().filter((c) => c.name.startsWith(prefix) && c.pid !== null);
}

/** ffmpeg processes below this test process (the in-process core's children) whose argv contains `word`. */
export function ffmpegProcesses(word: string): ProcInfo[] {
  return descendantsOf(process.pid).filter((p) => p.argv.some((a) => a.endsWith('ffmpeg')) && p.argv.includes(word));
}

/** `GET path` with the admin's bearer token (or none / other headers) as a Buffer. */
export async function get(
  s: Slave,
  path: string,
  headers: Record<string, string> = { authorization: `Bearer ${s.admin}` },
): Promise<{ status: number; type: string; body: Buffer; json: unknown }> {
  const res = await fetch(`${s.tc.url}${path}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body, json };
}

/** `HEAD path` with the admin's bearer token (or none / other headers): the status and the response headers. */
export async function head(
  s: Slave,
  path: string,
  headers: Record<string, string> = { authorization: `Bearer ${s.admin}` },
): Promise<{ status: number; headers: Headers }> {
  const res = await fetch(`${s.tc.url}${path}`, { method: 'HEAD', headers });
  return { status: res.status, headers: res.headers };
}

/** Mints a signed preview link through the API. */
export async function mintLink(
  s: Slave,
  stream: string,
  ttlS?: number,
): Promise<{ token: string; hls: string; mjpeg: string; snapshot: string }> {
  const res = await fetch(`${s.tc.url}/api/v1/previews/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(ttlS === undefined ? { stream } : { stream, ttlS }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { token: string; hls: string; mjpeg: string; snapshot: string };
}

/** A token signed with the node's real key (read from its database, as an attacker with the file could). */
export function signWithNodeKey(s: Slave, scope: string, exp: number): string {
  const [row] = dbQuery<{ value: string }>(s.tc.dataDir, "SELECT value FROM secrets WHERE name = 'preview-link-key'");
  assert.ok(row, 'the preview link key is in the store');
  const key = Buffer.from(row.value, 'base64url');
  const mac = createHmac('sha256', key).update(`cupola-preview\n${scope}\n${exp}`).digest('base64url');
  return `v1.${exp}.${Buffer.from(scope).toString('base64url')}.${mac}`;
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

/** True when `b` starts with a JPEG SOI and ends with an EOI. */
export function looksLikeJpeg(b: Buffer): boolean {
  return b.length > 4 && b.subarray(0, 2).equals(SOI) && b.subarray(-2).equals(EOI);
}

/** ffprobe of a file: `codec_name|width|height|nb_read_frames` of its first video stream, decoding every frame. */
export async function probeFile(scope: Scope, file: string): Promise<PeerResult> {
  const args = ['-v', 'error', '-count_frames', '-select_streams', 'v:0'];
  const entries = ['-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'compact=p=0:nk=1'];
  return spawnPeer(scope, FFPROBE, [...args, ...entries, file]).done;
}

/** Writes `bytes` to a temp file (removed in `after`) named `name`; returns its path. */
export function tempFile(scope: Scope, name: string, bytes: Buffer): string {
  const file = join(tempDir(scope, 'cupola-preview-'), name);
  writeFileSync(file, bytes);
  return file;
}

/** One part of an MJPEG response as received. */
export interface Part {
  /** ms since the response started. */
  at: number;
  jpeg: Buffer;
}

/** An open MJPEG response, parsed into parts as they arrive. */
export interface MjpegReader {
  res: IncomingMessage;
  parts: Part[];
  close(): void;
}

/** Opens `GET path` (a /mjpeg/ URL) of the slave `s` (see openMjpegAt). */
export function openMjpeg(
  s: Slave,
  path: string,
  headers: Record<string, string> = { authorization: `Bearer ${s.admin}` },
): Promise<MjpegReader> {
  return openMjpegAt(`${s.tc.url}${path}`, headers);
}

/** Opens `GET url` (a /mjpeg/ URL) with node:http and parses `multipart/x-mixed-replace` parts by Content-Length. */
export function openMjpegAt(url: string, headers: Record<string, string>): Promise<MjpegReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers });
    req.on('error', reject);
    req.on('response', (res) => {
      const started = performance.now();
      const parts: Part[] = [];
      let buf = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const headEnd = buf.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = buf.subarray(0, headEnd).toString('latin1');
          const length = Number(/Content-Length: (\d+)/i.exec(head)?.[1] ?? NaN);
          assert.ok(Number.isFinite(length), `a part without Content-Length: ${head}`);
          if (buf.length < headEnd + 4 + length + 2) return;
          parts.push({ at: performance.now() - started, jpeg: buf.subarray(headEnd + 4, headEnd + 4 + length) });
          buf = buf.subarray(headEnd + 4 + length + 2);
        }
      });
      res.on('error', () => {});
      resolve({
        res,
        parts,
        close: () => {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.end();
  });
}

/** Parts per second between the first and the last part received after `fromMs`. */
export function rate(parts: Part[], fromMs = 0): number {
  const p = parts.filter((x) => x.at >= fromMs);
  if (p.length < 2) return 0;
  return (p.length - 1) / ((p.at(-1)!.at - p[0]!.at) / 1000);
}
