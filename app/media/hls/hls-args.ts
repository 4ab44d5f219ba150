/** The ffmpeg command line of an HLS preview muxer: RTSP over TCP in, fMP4 HLS out, video copied (no re-encode). */

/** Names of the files a muxer writes in its directory (the only names the HTTP routes serve). */
export const PLAYLIST = 'index.m3u8';
export const INIT_SEGMENT = 'init.mp4';
/** A media segment (`seg<sequence>.m4s`); sequence numbers start at the epoch second, so restarts keep counting up. */
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
    ...['-hide_banner', '-loglevel', 'warning'], // no -nostdin: the Supervisor stops ffmpeg with `q`
    // nobuffer: no demuxer buffering; fpsprobesize 0: no frame-rate probing (a copy does not need it), which saves
    // ~0.8 s of start-up; -timeout: a dead server ends the read.
    ...['-fflags', 'nobuffer', '-fpsprobesize', '0', '-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', o.url],
    ...['-map', '0:v:0', '-c', 'copy', '-an', '-sn', '-dn'],
    ...['-f', 'hls', '-hls_time', String(o.segmentS), '-hls_list_size', String(o.listSize)],
    ...['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', INIT_SEGMENT, '-hls_segment_filename', 'seg%d.m4s'],
    ...['-hls_flags', 'delete_segments+independent_segments+program_date_time+omit_endlist'],
    ...['-hls_start_number_source', 'epoch', PLAYLIST],
  ];
}
