/**
 * A live camera for glass-to-glass measurements: ffmpeg encoding testsrc2 with the frame code (lib/frame-code.ts) in
 * real time (-re), H.264 ultrafast zerolatency (no B-frames, no look-ahead), pushed over RTMP; its `-progress` lines
 * (every 0.1 s) are kept with the Date.now() they arrived at, which dates the encoding of every frame.
 */
import { codedVideoArgs } from './frame-code.js';
import { start, type Started } from './proc.js';
import { FFMPEG } from './publisher.js';

/** A running camera. */
export interface LiveCamera {
  started: Started;
  fps: number;
  lines: Array<{ at: number; line: string }>;
}

/** Starts a `size` (e.g. 640x360) camera at `fps`, GOP 1 s, pushing to `url`. */
export function startLiveCamera(url: string, size: string, fps: number): LiveCamera {
  const lines: Array<{ at: number; line: string }> = [];
  let partial = '';
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...codedVideoArgs(size, fps, { realtime: true }),
    ...['-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(fps)],
    ...['-f', 'flv', url, '-progress', 'pipe:1', '-stats_period', '0.1'],
  ];
  const started = start(FFMPEG, args, {
    onStdout: (chunk) => {
      const at = Date.now();
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) lines.push({ at, line: line.trim() });
    },
  });
  return { started, fps, lines };
}

/**
 * Date.now() at which the camera encoded frame 0, so that frame n was encoded at base + n / fps: the earliest bound
 * over its progress blocks (a block reporting frame=N is printed after frame N-1 was encoded).
 */
export function encodeBase(camera: LiveCamera): number {
  let base = Infinity;
  let frame = 0;
  for (const { at, line } of camera.lines) {
    const m = /^frame=(\d+)$/.exec(line);
    if (m) frame = Number(m[1]);
    else if (line.startsWith('progress=') && frame > 0) base = Math.min(base, at - ((frame - 1) * 1000) / camera.fps);
  }
  if (!Number.isFinite(base)) throw new Error('the camera reported no progress');
  return base;
}
