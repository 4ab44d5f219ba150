/**
 * The synthetic cameras: ffmpeg's `testsrc2` with the camera's name and a running clock drawn in, and a tone, encoded
 * the way a cheap IP camera would (H.264 ultrafast, 1 s GOP, AAC) and pushed over RTMP to the camera's slave.
 */
import { existsSync } from 'node:fs';
import { resolveFfmpeg } from '../ffmpeg/resolve.js';
import { runProbe } from '../supervisor/probe.js';
import type { ChildSpec } from '../supervisor/types.js';
import type { CameraPlan } from './plan.js';

/** Picture size and rate: small and slow enough that four cameras cost a few % of a core each. */
export const CAMERA_SIZE = '640x360';
export const CAMERA_FPS = 15;

/**
 * Fonts tried for the overlay (Debian/Ubuntu fonts-dejavu-core, Fedora, Arch); build/scripts/lib/bootstrap-lib.mjs has
 * the same list (FONT_FILES) and installs fonts-dejavu-core when none is there.
 */
export const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
];

/** The first font file that exists, or null (drawtext then asks fontconfig for its default font). */
export function findFont(candidates: readonly string[] = FONT_CANDIDATES): string | null {
  return candidates.find((f) => existsSync(f)) ?? null;
}

/** What a camera's command line is made of. */
export interface CameraArgsInput {
  /** `site-a / cam-1`: drawn top left. */
  label: string;
  /** `rtmp://host:port/live/<camera>?key=…`. */
  publishUrl: string;
  /** Tone frequency in Hz, so that cameras sound different. */
  toneHz: number;
  /** A font file, or null for fontconfig's default. */
  font: string | null;
  /** False: no text overlay (an ffmpeg without drawtext). */
  overlay?: boolean;
  /** Video bitrate (average; the peak is 1.25 times that). */
  kbps: number;
}

/** Keeps what needs no escaping inside a quoted filter option (ids are slugs anyway). */
function plainText(text: string): string {
  return text.replace(/[^\w /.-]/g, '');
}

/**
 * The ffmpeg arguments of one camera, without `-progress` (the Supervisor adds it) and without `-nostdin` (it stops
 * ffmpeg with `q` on stdin). `%{localtime\:%X}` is the wall clock, so that a viewer can tell the delay by eye.
 */
export function cameraArgs(input: CameraArgsInput): string[] {
  const source = `testsrc2=size=${CAMERA_SIZE}:rate=${CAMERA_FPS}`;
  const font = input.font ? `fontfile=${input.font}:` : '';
  const text = `${plainText(input.label)}  %{localtime\\:%X}`;
  const draw = `drawtext=${font}text='${text}':x=12:y=12:fontsize=26:fontcolor=white:box=1:boxcolor=black@0.65:boxborderw=8`;
  const video = input.overlay === false ? source : `${source},${draw}`;
  return [
    ...['-hide_banner', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', video],
    ...['-f', 'lavfi', '-i', `sine=frequency=${input.toneHz}:sample_rate=44100`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
    ...['-g', String(CAMERA_FPS), '-keyint_min', String(CAMERA_FPS), '-b:v', `${input.kbps}k`],
    ...['-maxrate', `${Math.round(input.kbps * 1.25)}k`, '-bufsize', `${Math.round(input.kbps * 1.25)}k`],
    ...['-c:a', 'aac', '-b:a', '64k', '-ac', '1'],
    ...['-f', 'flv', input.publishUrl],
  ];
}

/** The ffmpeg the cameras use and what it can draw. */
export interface CameraTools {
  ffmpeg: string;
  /** False when this ffmpeg has no drawtext filter (built without libfreetype). */
  overlay: boolean;
  font: string | null;
}

/** Resolves ffmpeg the way the nodes do and checks for drawtext (one `-filters` run, a few ms). */
export function cameraTools(): CameraTools {
  const ffmpeg = resolveFfmpeg().path;
  const filters = runProbe(ffmpeg, ['-hide_banner', '-filters']);
  return { ffmpeg, overlay: filters.ok && /\bdrawtext\b/.test(filters.stdout), font: findFont() };
}

/** The supervised child of camera number `index` (0-based) of the plan. */
export function cameraChildSpec(
  cam: CameraPlan,
  index: number,
  publishUrl: string,
  tools: CameraTools,
  kbps: number,
): ChildSpec {
  const label = `${cam.site} / ${cam.id}`;
  const args = cameraArgs({
    label,
    publishUrl,
    toneHz: 330 + 110 * index,
    font: tools.font,
    overlay: tools.overlay,
    kbps,
  });
  // -progress lets the Supervisor see a camera that stalls (its slave stopped reading) and restart it.
  return { name: `camera:${cam.site}/${cam.id}`, kind: 'ffmpeg', command: tools.ffmpeg, args, progress: true };
}
