/** Shapes of the RTSP server's statistics, shared by the core, the API and the renderer. Data only. */

/** One media track of a published path, as described by its SDP. */
export interface RtspTrackInfo {
  /** Index in the SDP (`trackID=N` in the URLs the server hands out). */
  index: number;
  /** SDP media type: `video`, `audio`, `application`... */
  media: string;
  /** Encoding name from `a=rtpmap` (e.g. `H264`, `MPEG4-GENERIC`, `opus`), or the payload type when unknown. */
  codec: string;
  /** RTP clock rate; 0 when the SDP does not say. */
  clockRate: number;
}

/** A track with its live figures (from the RTP passing through; null when not known or not applicable). */
export interface RtspTrackStats extends RtspTrackInfo {
  bitrateKbps: number;
  /** Video: pictures per second over the last seconds. */
  fps: number | null;
  /** Video: pictures and seconds between the last two key frames. */
  keyframeIntervalFrames: number | null;
  keyframeIntervalS: number | null;
  /** H.264: the displayed size from the SPS. */
  width: number | null;
  height: number | null;
}

/** How a publisher or reader moves RTP. `internal` = fed from inside the process. */
export type RtspTransport = 'tcp' | 'udp' | 'internal';

/** A snapshot of one published path. */
export interface RtspPathStats {
  path: string;
  tracks: RtspTrackStats[];
  /** Over the last seconds: from the publisher, and to all readers together. */
  bitrateInKbps: number;
  bitrateOutKbps: number;
  /** null while the path waits for its publisher to come back (readers are kept for a grace period). */
  publisher: { remote: string; transport: RtspTransport } | null;
  /** Publishers that have fed this path; more than 1 after a publisher restarted within the grace period. */
  publishers: number;
  /** Since when the current (or last) publisher feeds the path. */
  publisherSince: string;
  readers: number;
  /** RTP received from the publisher. */
  bytesIn: number;
  packetsIn: number;
  /** RTP sent to readers (summed over readers). */
  bytesOut: number;
  packetsOut: number;
  /** Packets not sent to a reader because its queue was full. */
  packetsDropped: number;
  onlineSince: string;
  uptimeMs: number;
}

/** Server-wide counters of the RTSP server. */
export interface RtspServerCounters {
  connections: number;
  connectionsRejected: number;
  badRequests: number;
  authFailures: number;
  authForbidden: number;
  readersDropped: number;
  sessionsTimedOut: number;
}
