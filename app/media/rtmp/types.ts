/** Public types of the RTMP ingest. Data shapes only. */
import type { Logger } from '../../log/logger.js';

/** What authorizePublish is asked. `query` is the stream name's query string (first value of a repeated key). */
export interface PublishRequest {
  app: string;
  name: string;
  query: Record<string, string>;
  /** `address:port` of the publisher. */
  remote: string;
}

/** Decides a publish synchronously (the caller holds camera id → sha256(key)); a throw counts as a refusal. */
export type AuthorizePublish = (req: PublishRequest) => boolean;

/** What authorizePlay is asked: a play of `<app>/<name>?<query>` (both names as STREAM_NAME). */
export type PlayRequest = PublishRequest;

/** Decides a play synchronously; a throw counts as a refusal. */
export type AuthorizePlay = (req: PlayRequest) => boolean;

/** A published stream as announced by onPublish / onUnpublish. */
export interface RtmpStreamInfo {
  /** Always `live` (the only app accepted). */
  app: string;
  /** The camera id: the stream name without its query. */
  name: string;
  /** The publishing session's id (NMS's), unique per publish. */
  id: string;
  /** `address:port` of the publisher. */
  remote: string;
}

/** FLV tag types: 8 audio, 9 video, 18 script data (onMetaData). */
export type FlvTagType = 8 | 9 | 18;

/**
 * Receives the FLV tag bodies of one stream (see README "The media tap"). Called synchronously on the ingest path:
 * must be quick; a throw is caught and logged. `payload` is shared with other taps and NMS's GOP cache: never
 * modify it (keeping a reference is fine, it is never reused).
 */
export type TagListener = (tagType: FlvTagType, timestampMs: number, payload: Buffer) => void;

/** Limits of the ingest; every field has a default (DEFAULT_RTMP_LIMITS). */
export interface RtmpLimits {
  /** Open connections at once; more are closed at accept. */
  maxConnections: number;
  /** A connection must publish (or play) within this time after accept, or it is closed. */
  setupTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (also frees the path of a dead camera). */
  idleTimeoutMs: number;
  /** A player whose socket has more than this unsent is dropped (allowPlay only). */
  playerBufferBytes: number;
  /** After a refusal or a protocol error, how long the peer gets to close before the socket is destroyed. */
  closeGraceMs: number;
  /** Window of the bitrate and fps figures. */
  rateWindowMs: number;
}

/** The defaults. */
export const DEFAULT_RTMP_LIMITS: RtmpLimits = {
  maxConnections: 1000,
  setupTimeoutMs: 5000,
  idleTimeoutMs: 10_000,
  playerBufferBytes: 4 * 1024 * 1024,
  closeGraceMs: 1000,
  rateWindowMs: 5000,
};

/** Constructor options of RtmpIngest. */
export interface RtmpIngestOptions {
  /** TCP port (0 = any free port; see `port` after start). */
  port: number;
  /** Listen address (default 0.0.0.0). */
  host?: string;
  log: Logger;
  authorizePublish: AuthorizePublish;
  /** Accept RTMP play of `live/<name>` without asking (default false: refused). HTTP-FLV is never served. */
  allowPlay?: boolean;
  /**
   * Plays of any `<app>/<name>` (the master's relays, `<site>/<camera>`) are decided by this; without it, only
   * `allowPlay` plays pass.
   */
  authorizePlay?: AuthorizePlay;
  limits?: Partial<RtmpLimits>;
}

/** A snapshot of one published stream. */
export interface RtmpStreamStats extends RtmpStreamInfo {
  /** From the sequence header: `H264`, `H265`, `AV1`, `VP9`...; null before it arrived. */
  videoCodec: string | null;
  /** `AAC`, `MP3`, `Opus`, `G711A`...; null before the first audio tag. */
  audioCodec: string | null;
  /** From the H.264 SPS, else the publisher's onMetaData; null when unknown. */
  width: number | null;
  height: number | null;
  /** From the AAC AudioSpecificConfig; null when unknown. */
  audioSampleRate: number | null;
  audioChannels: number | null;
  /** Socket bytes received from the publisher (RTMP framing included). */
  bytesIn: number;
  /** Over the last `rateWindowMs`. */
  bitrateKbps: number;
  /** Video frames per second over the last `rateWindowMs`. */
  fps: number;
  /** Media time between the last two key frames; null before the second one. */
  keyframeIntervalMs: number | null;
  /** Video frames from the previous key frame to the last one; null before the second one. */
  gopFrames: number | null;
  videoFrames: number;
  audioFrames: number;
  /** RTMP players of this stream (taps not counted). */
  players: number;
  publishedAt: string;
  uptimeMs: number;
}

/** Totals since start. */
export interface RtmpIngestCounters {
  /** Connections accepted. */
  connections: number;
  /** Connections closed at accept because maxConnections were open. */
  connectionsRejected: number;
  /** Publishes accepted. */
  published: number;
  /** Publishes refused: wrong app or name, unknown camera, wrong key, stream already published. */
  refused: number;
  /** Plays refused (play disabled, bad name, not authorized). */
  playsRefused: number;
  /** Players dropped because their socket buffer exceeded playerBufferBytes. */
  playersDropped: number;
  /** Connections closed on a protocol error (malformed connect, garbage, oversized message). */
  protocolErrors: number;
  /** Connections closed by the setup or idle timeout. */
  timedOut: number;
}
