/** Shapes of the preview API (HLS, MJPEG, snapshots) shared with the renderer. Data only. */

/** A signed link to the previews of one stream (POST /api/v1/previews/token); paths are relative to the node. */
export interface PreviewLink {
  /** `<feed>/<path>`, e.g. `f2/cam1`. */
  stream: string;
  /** The `?t=` value; valid for this stream only, until expiresAt. */
  token: string;
  expiresAt: string;
  /** `/hls/<stream>/index.m3u8?t=…` */
  hls: string;
  /** `/mjpeg/<stream>?t=…` (add `&fps=&width=`) */
  mjpeg: string;
  /** `/snapshot/<stream>.jpg?t=…` */
  snapshot: string;
}
