/**
 * Telling which publisher a reader's pictures came from, without a decoder in the test: the reader (ffmpeg) writes
 * every decoded picture scaled to 8x8 RGB to a file, and a publisher that sends solid red is recognisable.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Scope } from '../../helpers/core.js';
import { FFMPEG, spawnPeer, type Peer } from './peers.js';

const TINY = 8 * 8 * 3;

/** An ffmpeg reader that writes every decoded picture, scaled to 8x8 RGB, to `file` (flushed per picture). */
export function pictureReader(scope: Scope, url: string, transport: 'tcp' | 'udp', file: string): Peer {
  return spawnPeer(scope, FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', transport, '-i', url],
    ...['-map', '0:v', '-vf', 'scale=8:8', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-flush_packets', '1', '-y', file],
  ]);
}

/** Per decoded picture in `file` (none yet when there is no file): true when it is (almost) solid red. */
export function redPictures(file: string): boolean[] {
  if (!existsSync(file)) return [];
  const data = readFileSync(file);
  const out: boolean[] = [];
  for (let at = 0; at + TINY <= data.length; at += TINY) {
    let r = 0;
    let gb = 0;
    for (let i = at; i < at + TINY; i += 3) {
      r += data[i]!;
      gb += data[i + 1]! + data[i + 2]!;
    }
    out.push(r / 64 > 200 && gb / 128 < 60);
  }
  return out;
}

/** A publisher's ffmpeg arguments with its test pattern replaced by solid red (same size, rate and encoder). */
export function asRed(args: string[]): string[] {
  return args.map((a) => (a.startsWith('testsrc2=') ? `color=c=red:${a.slice('testsrc2='.length)}` : a));
}
