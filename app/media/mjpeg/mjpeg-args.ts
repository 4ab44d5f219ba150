/** The ffmpeg command line of an MJPEG preview decoder: RTSP over TCP in, JPEG images at a fixed rate on fd 3. */
import { previewInputArgs } from '../preview/input-args.js';

/** Options of a decoder's command line. */
export interface MjpegArgsOptions {
  /** Input URL (with credentials; the Supervisor masks them in logs). */
  url: string;
  /** Images per second (1-30). */
  fps: number;
  /** Width in pixels (even); the height follows the aspect ratio (rounded to even). */
  width: number;
}

/**
 * Arguments for ffmpeg; the Supervisor prepends `-progress pipe:1 -nostats` and opens fd 3 (`dataPipe`). Decodes only
 * the first video track; `fps` drops (or repeats) pictures to the requested rate before scaling, so the scaler and
 * the JPEG encoder only see what is sent.
 */
export function mjpegArgs(o: MjpegArgsOptions): string[] {
  return [
    ...previewInputArgs(o.url, ['-flags', 'low_delay']),
    ...['-map', '0:v:0', '-an', '-sn', '-dn'],
    ...['-vf', `fps=${o.fps},scale=${o.width}:-2:flags=bilinear:out_range=full,format=yuvj420p`],
    ...['-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', 'pipe:3'],
  ];
}
