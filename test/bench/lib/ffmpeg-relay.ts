/**
 * The reference of the relay bench: the process-per-relay alternative, one
 * `ffmpeg -rtsp_transport tcp -i <source> -c copy -f flv <rtmp target>` per stream, its `-progress` (media time and
 * bytes written) kept so that the bench can check it keeps real time and writes what it reads.
 */
import { start, type Started } from './proc.js';
import { FFMPEG, progressReader, type Progress } from './publisher.js';

/** A running relay ffmpeg. */
export interface FfmpegRelay {
  started: Started;
  /** Its last complete -progress block (total_size = FLV bytes written). */
  last: Progress | undefined;
}

/** Starts relaying `source` (RTSP) to `target` (RTMP). */
export function startFfmpegRelay(source: string, target: string): FfmpegRelay {
  const relay: FfmpegRelay = { started: null!, last: undefined };
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', source],
    ...['-c', 'copy', '-f', 'flv', target, '-progress', 'pipe:1', '-nostats'],
  ];
  relay.started = start(FFMPEG, args, { onStdout: progressReader((p) => (relay.last = p)) });
  return relay;
}
