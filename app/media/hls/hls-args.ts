/** The ffmpeg command line of an HLS preview muxer: RTSP over TCP in, fMP4 HLS out, video copied (no re-encode). */
import { previewInputArgs } from '../preview/input-args.js';

/** The playlist ffmpeg writes in the muxer's directory (served rewritten, see live-window.ts). */
export const PLAYLIST = 'index.m3u8';
/** The init section ffmpeg writes; every run overwrites it, so each run's is served from memory (INIT_NAME). */
export const INIT_SEGMENT = 'init.mp4';
/**
 * The init section of one ffmpeg run of a muxer as served: `init.mp4` for the first run (the name ffmpeg gives it),
 * `init2.mp4`, `init3.mp4`… after restarts.
 */
export const INIT_NAME = /^init([2-9]|[1-9]\d{1,8})?\.mp4$/;
/**
 * A media segment (`seg<sequence>.m4s`), served from the directory; ffmpeg's sequence numbers start at the epoch
 * second, so the names of a restarted ffmpeg do not collide with those of the run before.
 */
export const SEGMENT_NAME = /^seg\d{1,20}\.m4s$/;

/** Options of a muxer's command line. */
export interface HlsArgsOptions {
  /** Input URL (with credentials; the Supervisor masks them in logs). */
  url: string;
  /** Target segment duration in seconds; segments are cut at the first keyframe after it (so ≥ the GOP). */
  segmentS: number;
  /** Segments listed in the playlist. */
  listSize: number;
}

/**
 * Arguments for ffmpeg run with cwd = the muxer's directory (relative output names). The Supervisor prepends
 * `-progress pipe:1 -nostats`. Video only: cameras' audio (G.711, AAC...) cannot always be copied into fMP4 for
 * browsers, and a preview is watched muted.
 */
export function hlsArgs(o: HlsArgsOptions): string[] {
  return [
    ...previewInputArgs(o.url), // a copy needs no frame-rate probing
    ...['-map', '0:v:0', '-c', 'copy', '-an', '-sn', '-dn'],
    ...['-f', 'hls', '-hls_time', String(o.segmentS), '-hls_list_size', String(o.listSize)],
    ...['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', INIT_SEGMENT, '-hls_segment_filename', 'seg%d.m4s'],
    ...['-hls_flags', 'delete_segments+independent_segments+program_date_time+omit_endlist'],
    ...['-hls_start_number_source', 'epoch', PLAYLIST],
  ];
}
