/**
 * Probes an RTSP source with ffprobe under a hard timeout (5 s): is it reachable, and what does it carry (the
 * video codec decides between copying and encoding). Runs through the Supervisor's one-shot helper: not supervised,
 * killed at its timeout, never restarted.
 */
import { runOneShot } from '../supervisor/probe.js';
import { maskText } from '../log/mask.js';

/** What a source carries. */
export interface SourceInfo {
  video: { codec: string; width: number | null; height: number | null } | null;
  audio: { codec: string } | null;
}

/** The outcome of a probe. */
export type ProbeOutcome = { ok: true; info: SourceInfo } | { ok: false; error: string };

/** The bound: a probe never holds a switch up longer than this. */
export const PROBE_TIMEOUT_MS = 5000;

interface FfprobeStream {
  codec_type?: unknown;
  codec_name?: unknown;
  width?: unknown;
  height?: unknown;
}

/** Runs ffprobe on `url`; the error (if any) is one masked line. */
export async function probeSource(ffprobe: string, url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeOutcome> {
  const args = [
    ...['-hide_banner', '-v', 'error', '-rtsp_transport', 'tcp'],
    // The socket timeout ends a silent server before the hard kill, with ffprobe's own message.
    ...['-timeout', String(Math.max(500, timeoutMs - 1000) * 1000), '-analyzeduration', '1000000'],
    ...['-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', url],
  ];
  const run = await runOneShot(ffprobe, args, { timeoutMs });
  if (!run.ok) return { ok: false, error: maskText(run.error).slice(0, 300) };
  return parseProbe(run.stdout);
}

/** Reads ffprobe's JSON; a source without video is refused (a relay forwards pictures). */
export function parseProbe(stdout: string): ProbeOutcome {
  let streams: FfprobeStream[];
  try {
    const body = JSON.parse(stdout) as { streams?: unknown };
    streams = Array.isArray(body.streams) ? (body.streams as FfprobeStream[]) : [];
  } catch {
    return { ok: false, error: 'ffprobe printed no JSON' };
  }
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  if (!v) return { ok: false, error: 'the source has no video stream' };
  return {
    ok: true,
    info: {
      video: { codec: String(v.codec_name ?? 'unknown'), width: num(v.width), height: num(v.height) },
      audio: a ? { codec: String(a.codec_name ?? 'unknown') } : null,
    },
  };
}
