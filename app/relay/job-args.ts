/**
 * The ffmpeg argv of a relay job: the RTSP source over TCP in, FLV to the RTMP destination out, with the preset's
 * codecs (auto: copy H.264, else libx264 veryfast; AAC audio) or the checked ffmpeg_params. `-progress` is added by
 * the Supervisor; `-stats_period` makes its blocks frequent enough to time a switch.
 */
import type { RelayPreset } from '../defs/relay.js';
import { setsAudioCodec, setsVideoCodec } from './ffmpeg-params.js';
import type { SourceInfo } from './probe.js';

/** What a job's argv is built from. */
export interface JobArgsInput {
  rtspUrl: string;
  rtmpUrl: string;
  preset: RelayPreset;
  /** Checked ffmpeg_params (parseFfmpegParams), or null. */
  params: string[] | null;
  /** The source's probe, when there is one: decides copy vs encode and AAC copy vs encode. */
  source: SourceInfo | null;
}

/** Seconds between -progress blocks: the precision of the measured switch gap. */
export const STATS_PERIOD_S = 0.2;
/** Socket timeout of the RTSP input: a source silent this long ends ffmpeg (then the Supervisor retries). */
const INPUT_TIMEOUT_US = 10_000_000;

const X264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '50'];

/** Copy or encode the video: auto copies H.264 (what FLV carries) and encodes the rest; unknown source → copy. */
export function videoArgs(preset: RelayPreset, source: SourceInfo | null): string[] {
  if (preset === 'transcode') return X264;
  if (preset === 'copy') return ['-c:v', 'copy'];
  const codec = source?.video?.codec;
  return codec === undefined || codec === 'h264' ? ['-c:v', 'copy'] : X264;
}

/** AAC audio: copied when the source already sends AAC, encoded otherwise. */
export function audioArgs(source: SourceInfo | null): string[] {
  return source?.audio?.codec === 'aac' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '128k'];
}

/** The whole argv (without the binary and -progress). */
export function jobArgs(job: JobArgsInput): string[] {
  const params = job.params ?? [];
  const dropsAudio = params.includes('-an');
  return [
    ...['-hide_banner', '-loglevel', 'warning', '-stats_period', String(STATS_PERIOD_S)],
    ...['-rtsp_transport', 'tcp', '-timeout', String(INPUT_TIMEOUT_US), '-analyzeduration', '1000000'],
    ...['-i', job.rtspUrl],
    ...['-map', '0:v:0', ...(dropsAudio ? [] : ['-map', '0:a:0?'])],
    ...(setsVideoCodec(params) ? [] : videoArgs(job.preset, job.source)),
    ...(setsAudioCodec(params) ? [] : audioArgs(job.source)),
    ...params,
    ...['-f', 'flv', '-flvflags', 'no_duration_filesize', job.rtmpUrl],
  ];
}
