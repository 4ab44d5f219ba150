/** How every preview ffmpeg (HLS muxer, MJPEG decoder) reads its stream: RTSP over TCP from this node's own port. */

/**
 * The head of a preview's ffmpeg command line, up to and including `-i url`. nobuffer: no demuxer buffering;
 * fpsprobesize 0: no frame-rate probing, which saves ~0.8 s of start-up; -timeout: a dead server ends the read.
 * No -nostdin: the Supervisor stops ffmpeg with `q`. `flags` go after `-fflags` (e.g. `-flags low_delay`).
 */
export function previewInputArgs(url: string, flags: readonly string[] = []): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'warning', '-fflags', 'nobuffer', ...flags, '-fpsprobesize', '0'],
    ...['-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', url],
  ];
}
