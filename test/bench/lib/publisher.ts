/**
 * Camera stand-ins for the media benchmarks: one 4 Mbit/s clip encoded once, then pushed in a loop by
 * `ffmpeg -re -stream_loop -1 -i clip.flv -c copy -f flv rtmp://...`, its `-progress` read to know whether it keeps
 * real time (a server that reads too slowly blocks ffmpeg's writes and its media clock falls behind the wall clock).
 * One ffmpeg may push several cameras (one `-f flv` output, so one RTMP connection, each): it reads the clip once for
 * all of them, which costs about a third of the CPU per camera of one process each (measured: 0.43 % vs 1.3 % of a
 * core), and any connection the server reads too slowly still stalls that ffmpeg's clock.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, stop, type Started } from './proc.js';

/** ffmpeg to run (FFMPEG overrides). */
export const FFMPEG = process.env.FFMPEG ?? 'ffmpeg';

/** The encoded clip. */
export interface Clip {
  path: string;
  seconds: number;
  /** Bitrate of the whole file (FLV framing included). */
  mbitPerSecond: number;
  description: string;
}

/**
 * A 1280x720 25 fps H.264 (GOP 1 s, 3.9 Mbit/s, max 4) + AAC clip of `seconds`. Encoding it takes 10-40 s of this
 * 2-core machine, so it is kept in the temp dir under a name made of the ffmpeg arguments and the ffmpeg binary's
 * identity, and encoded again only when one of them changes (`fresh` forces it).
 */
export function encodeClip(seconds = 10, fresh = false): Clip {
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000'],
    // Noise so that the encoder really spends the bitrate (testsrc2 alone compresses far below it).
    ...['-vf', 'noise=alls=12:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
    ...['-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-b:v', '3900k', '-maxrate', '4M', '-bufsize', '4M'],
    ...['-c:a', 'aac', '-b:a', '96k', '-t', String(seconds), '-f', 'flv'],
  ];
  const version = spawnSync(FFMPEG, ['-version'], { encoding: 'utf8' });
  if (version.error) throw new Error(`cannot run ${FFMPEG}: ${version.error.message}`);
  const key = createHash('sha256').update(JSON.stringify(args)).update(version.stdout).digest('hex').slice(0, 16);
  const path = join(tmpdir(), `cupola-bench-clip-${key}.flv`);
  if (fresh || !existsSync(path)) {
    const partial = `${path}.${process.pid}.part`;
    const run = spawnSync(FFMPEG, [...args, partial], { encoding: 'utf8' });
    if (run.status !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`ffmpeg could not encode the clip (${run.status ?? run.signal}): ${run.stderr}`);
    }
    renameSync(partial, path);
  }
  const bytes = statSync(path).size;
  return {
    path,
    seconds,
    mbitPerSecond: (bytes * 8) / 1e6 / seconds,
    description: '1280x720 25 fps H.264 GOP 1 s (-b:v 3900k -maxrate 4M) + AAC 96k',
  };
}

/** One `-progress` block of a publisher. */
export interface Progress {
  /** performance.now() when the block arrived. */
  at: number;
  outUs: number;
  totalSize: number;
}

/** A running publisher. */
export interface Publisher {
  readonly started: Started;
  /** The last complete progress block, if any. */
  last(): Progress | undefined;
  /** The last lines it printed that are not progress (its errors), joined. */
  errors(): string;
  running(): boolean;
}

/** Reads ffmpeg's `-progress pipe:1` output chunk by chunk and hands over each complete block, timed on arrival. */
export function progressReader(onBlock: (block: Progress) => void): (chunk: string) => void {
  let current: Partial<Progress> = {};
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [key, value = ''] = line.trim().split('=');
      if (key === 'out_time_us') current.outUs = Number(value) || 0;
      else if (key === 'total_size') current.totalSize = Number(value) || 0;
      else if (key === 'progress') {
        onBlock({ at: performance.now(), outUs: current.outUs ?? 0, totalSize: current.totalSize ?? 0 });
        current = {};
      }
    }
  };
}

/** Starts pushing `clip` in a loop at real time to every URL of `urls` (one ffmpeg, one connection per URL). */
export function startPublisher(clip: Clip, urls: string[]): Publisher {
  let last: Progress | undefined;
  let exited = false;
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip.path],
    ...urls.flatMap((url) => ['-map', '0', '-c', 'copy', '-f', 'flv', url]),
    ...['-progress', 'pipe:1', '-nostats'],
  ];
  const started = start(FFMPEG, args, { onStdout: progressReader((p) => (last = p)) });
  void started.exited.then(() => (exited = true));
  const errors = () =>
    started
      .tail()
      .split('\n')
      .filter((line) => !/^\w+=/.test(line) && !line.startsWith('Error closing file'))
      .slice(-3)
      .join(' | ');
  return { started, last: () => last, errors, running: () => !exited };
}

/** What a publisher did between two progress blocks. */
export interface PublisherRate {
  /** Media time over wall time (1 = real time). */
  speed: number;
  /** Bytes written to the server (FLV) per second, in Mbit/s (ffmpeg reports the first output's). */
  mbitPerSecond: number;
}

/** Speed and bitrate between two blocks of the same publisher. */
export function rateBetween(from: Progress | undefined, to: Progress | undefined): PublisherRate {
  if (!from || !to || to.at <= from.at) return { speed: 0, mbitPerSecond: 0 };
  const wallS = (to.at - from.at) / 1000;
  return {
    speed: (to.outUs - from.outUs) / 1e6 / wallS,
    mbitPerSecond: ((to.totalSize - from.totalSize) * 8) / 1e6 / wallS,
  };
}

/** Stops publishers (SIGTERM, SIGKILL after 3 s), all at once. */
export async function stopPublishers(publishers: Publisher[]): Promise<void> {
  await Promise.all(publishers.map((p) => stop(p.started, 3000)));
}
