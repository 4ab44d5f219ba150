/**
 * Frame numbers burnt into the picture, for latency benchmarks that must not trust the server's own figures: the
 * source's top band (CODE_HEIGHT px) is 32 blocks, block i < 16 white when bit i of the frame number is set, block
 * 16 + i its complement (so a misread block is caught). A reader is an ffmpeg decoding a stream down to that band
 * as 32 gray bytes per frame on a pipe (`crop`, `scale=32:1:flags=area`: each byte is one block's mean), flushed
 * per frame; the bench keeps each frame's number with the time its bytes arrived.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, stop, type Started } from './proc.js';
import { FFMPEG, type Clip } from './publisher.js';

/** Bits of the frame number (codes repeat every 65536 frames, 43 min at 25 fps). */
const BITS = 16;
const BLOCKS = 2 * BITS;
/** Height of the band in pixels of the source picture. */
export const CODE_HEIGHT = 32;

/** geq luma expression of the band for a picture `width` wide (block i is width/32 px). */
function codeExpression(width: number): string {
  const w = width / BLOCKS;
  const bit = (shift: string) => `mod(floor(N/pow(2,${shift})),2)`;
  return `255*if(lt(X,${w * BITS}),${bit(`floor(X/${w})`)},1-${bit(`floor(X/${w})-${BITS}`)})`;
}

/**
 * ffmpeg input + filter arguments of a coded picture: testsrc2 `size` at `fps` with the band drawn over its top
 * (`[v]` is the result; `noise` adds temporal noise to the picture but not to the band). `realtime` adds -re.
 */
export function codedVideoArgs(size: string, fps: number, opts: { noise?: number; realtime?: boolean } = {}): string[] {
  const width = Number(size.split('x')[0]);
  const re = opts.realtime ? ['-re'] : [];
  const noise = opts.noise ? `noise=alls=${opts.noise}:allf=t` : 'null';
  const graph = [
    `[0:v]${noise}[pic]`,
    `[1:v]geq=lum='${codeExpression(width)}'[code]`,
    '[pic][code]overlay=0:0:shortest=1,format=yuv420p[v]',
  ].join(';');
  return [
    ...[...re, '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`],
    ...[...re, '-f', 'lavfi', '-i', `nullsrc=size=${width}x${CODE_HEIGHT}:rate=${fps},format=gray`],
    ...['-filter_complex', graph],
  ];
}

/**
 * A 1280x720 25 fps H.264 (GOP 1 s, 3.9 Mbit/s, max 4, no B-frames) + AAC clip of `seconds` with the frame code,
 * kept in the temp dir like lib/publisher.ts's clip (named after the arguments and the ffmpeg build).
 */
export function encodeCodedClip(seconds = 20): Clip {
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...codedVideoArgs('1280x720', 25, { noise: 12 }),
    ...['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-map', '[v]', '-map', '2:a'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-keyint_min', '25'],
    ...['-sc_threshold', '0', '-b:v', '3900k', '-maxrate', '4M', '-bufsize', '4M'],
    ...['-c:a', 'aac', '-b:a', '96k', '-t', String(seconds), '-f', 'flv'],
  ];
  const version = spawnSync(FFMPEG, ['-version'], { encoding: 'utf8' });
  if (version.error) throw new Error(`cannot run ${FFMPEG}: ${version.error.message}`);
  const key = createHash('sha256').update(JSON.stringify(args)).update(version.stdout).digest('hex').slice(0, 16);
  const path = join(tmpdir(), `cupola-bench-coded-${key}.flv`);
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.part`;
    const run = spawnSync(FFMPEG, [...args, partial], { encoding: 'utf8' });
    if (run.status !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`ffmpeg could not encode the coded clip (${run.status ?? run.signal}): ${run.stderr}`);
    }
    renameSync(partial, path);
  }
  return {
    path,
    seconds,
    mbitPerSecond: (statSync(path).size * 8) / 1e6 / seconds,
    description:
      '1280x720 25 fps H.264 GOP 1 s (-b:v 3900k -maxrate 4M) + AAC 96k, ' +
      `frame number in the top ${CODE_HEIGHT} px, ${seconds} s loop`,
  };
}

/** The frame number in one band (BLOCKS gray bytes); -1 when a block and its complement disagree. */
export function decodeBand(band: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < BITS; i++) {
    const bit = band[i]! > 128;
    if (bit === band[BITS + i]! > 128) return -1;
    if (bit) n += 2 ** i;
  }
  return n;
}

/** One decoded frame: performance.now() when its band arrived, and its number (-1: unreadable). */
export interface CodedFrame {
  at: number;
  code: number;
}

/** A running reader. */
export interface CodeReader {
  name: string;
  started: Started;
  frames: CodedFrame[];
  running(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts an ffmpeg reading `url` (input options `inputArgs`, e.g. `-rtsp_transport tcp`) of a picture `width` wide
 * and decoding each frame's band. The decoder runs one thread (frame threads would hold frames back). `nobuffer`
 * drops what ffmpeg read while probing the stream (so the first frames until a keyframe do not decode; that is
 * warm-up): with the probed packets replayed instead, about one reader in three stayed one frame (40 ms) behind the
 * others for its whole life, on any server (nginx-rtmp too), which a latency figure cannot tell from the server's.
 */
export function startCodeReader(name: string, url: string, width: number, inputArgs: string[] = []): CodeReader {
  const frames: CodedFrame[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let exited = false;
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-threads', '1', '-flags', 'low_delay'],
    ...['-fflags', '+nobuffer', ...inputArgs],
    ...['-i', url, '-map', '0:v:0', '-an', '-sn', '-dn'],
    ...['-vf', `crop=${width}:${CODE_HEIGHT}:0:0,scale=${BLOCKS}:1:flags=area,format=gray`],
    ...['-fps_mode', 'passthrough', '-f', 'rawvideo', '-flush_packets', '1', 'pipe:1'],
  ];
  const started = start(FFMPEG, args);
  // Bytes, not text: the band is binary (start()'s tail keeps stderr's lines; stdout is read here).
  started.child.stdout!.removeAllListeners('data');
  started.child.stdout!.on('data', (chunk: Buffer) => {
    const at = performance.now();
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    for (; offset + BLOCKS <= pending.length; offset += BLOCKS)
      frames.push({ at, code: decodeBand(pending.subarray(offset, offset + BLOCKS)) });
    pending = pending.subarray(offset);
  });
  void started.exited.then(() => (exited = true));
  return { name, started, frames, running: () => !exited, stop: async () => void (await stop(started, 2000)) };
}

/** p-quantile (0…1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** What `later` added over `first` for the same frames. */
export interface AddedLatency {
  /** later's arrival − first's arrival of each matched frame, ms. */
  deltas: number[];
  /** Frames later read in the window. */
  frames: number;
  /** Frames later read that first did not (or not within `maxMs`), and unreadable bands. */
  unmatched: number;
  unreadable: number;
  /** Frames first read in the window (less `maxMs` at its end) that later never showed: lost on the way. */
  lost: number;
}

/**
 * Matches the frames `later` read in [from, to] with the frames `first` read: for each, the latest arrival at `first`
 * of the same number no more than `maxMs` earlier (the codes of a looped clip repeat; `maxMs` must be less than the
 * loop), allowing `later` to be up to `earlyMs` ahead.
 */
export function addedLatency(
  first: CodedFrame[],
  later: CodedFrame[],
  from: number,
  to: number,
  maxMs = 5000,
  earlyMs = 500,
): AddedLatency {
  const arrivals = new Map<number, number[]>();
  for (const f of first) if (f.code >= 0) (arrivals.get(f.code) ?? arrivals.set(f.code, []).get(f.code)!).push(f.at);
  const window = later.filter((f) => f.at >= from && f.at <= to);
  const deltas: number[] = [];
  const seen = new Set<string>();
  let unmatched = 0;
  let unreadable = 0;
  for (const f of window) {
    if (f.code < 0) {
      unreadable++;
      continue;
    }
    const candidates = (arrivals.get(f.code) ?? []).filter((at) => at <= f.at + earlyMs && at >= f.at - maxMs);
    if (candidates.length === 0) {
      unmatched++;
      continue;
    }
    const at = Math.max(...candidates);
    seen.add(`${at} ${f.code}`);
    deltas.push(f.at - at);
  }
  const expected = first.filter((f) => f.code >= 0 && f.at >= from + earlyMs && f.at <= to - maxMs);
  const lost = expected.filter((f) => !seen.has(`${f.at} ${f.code}`)).length;
  return { deltas, frames: window.length, unmatched, unreadable, lost };
}
