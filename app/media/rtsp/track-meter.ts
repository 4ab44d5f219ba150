/**
 * Live figures of one track, read from the RTP that passes through (codec-agnostic where possible): bitrate, and for
 * video pictures per second, key-frame interval and, for H.264, the picture size from the SPS (the SDP's
 * sprop-parameter-sets, then any SPS sent in band). An operator needs them for every stream, including F2 streams
 * that no other part of Cupola decodes.
 */
import type { RtspTrackStats } from '../../defs/rtsp.js';
import { parseSps } from '../codec/h264-sps.js';
import { joinRule, payloadOffset, type JoinRule } from './rtp-packet.js';
import type { SdpMedia } from './sdp.js';

/** Seconds of history behind the rates; whole seconds, the current one excluded. */
const WINDOW_S = 5;

/** A count per second over the last WINDOW_S complete seconds. */
export class RateWindow {
  private readonly buckets: Array<{ second: number; n: number }> = [];

  /** Adds `n` at time `now` (ms). */
  add(n: number, now: number): void {
    const second = Math.floor(now / 1000);
    let last = this.buckets[this.buckets.length - 1];
    if (last?.second !== second) {
      last = { second, n: 0 };
      this.buckets.push(last);
      while (this.buckets.length > WINDOW_S + 1) this.buckets.shift();
    }
    last.n += n;
  }

  /** The mean per second over the complete seconds of the window (0 without any). */
  perSecond(now: number): number {
    const current = Math.floor(now / 1000);
    const done = this.buckets.filter((b) => b.second < current && b.second >= current - WINDOW_S);
    if (done.length === 0) return 0;
    return done.reduce((sum, b) => sum + b.n, 0) / (current - done[0]!.second);
  }
}

/** See the file comment. */
export class TrackMeter {
  private readonly rule: JoinRule;
  private readonly bytes = new RateWindow();
  private readonly pictures = new RateWindow();
  private lastTimestamp: number | null = null;
  private picturesSinceKey = 0;
  private lastKey: { timestamp: number } | null = null;
  private keyInterval: { frames: number; seconds: number } | null = null;
  private size: { width: number; height: number } | null = null;

  constructor(private readonly media: SdpMedia) {
    this.rule = joinRule(media.codec);
    if (this.rule === 'h264') this.size = spropSize(media.lines);
  }

  /** Counts one packet (as sent to readers); `join`: it starts a key frame (isJoinPoint, computed by the caller). */
  add(packet: Buffer, timestamp: number, now: number, join: boolean): void {
    this.bytes.add(packet.length, now);
    if (this.media.media !== 'video') return;
    if (timestamp !== this.lastTimestamp) {
      this.pictures.add(1, now);
      this.picturesSinceKey++;
      this.lastTimestamp = timestamp;
    }
    if (this.rule === 'any' || !join) return;
    if (this.rule === 'h264') this.size = inBandSize(packet) ?? this.size;
    if (this.lastKey?.timestamp === timestamp) return; // SPS, PPS and IDR of one picture
    if (this.lastKey && this.media.clockRate > 0) {
      const seconds = ((timestamp - this.lastKey.timestamp) | 0) / this.media.clockRate;
      this.keyInterval = { frames: this.picturesSinceKey - 1, seconds: Math.round(seconds * 1000) / 1000 };
    }
    this.lastKey = { timestamp };
    this.picturesSinceKey = 1;
  }

  /** The figures now. */
  stats(now: number): RtspTrackStats {
    const { index, media, codec, clockRate } = this.media;
    return {
      index,
      media,
      codec,
      clockRate,
      bitrateKbps: Math.round((this.bytes.perSecond(now) * 8) / 1000),
      fps: media === 'video' ? Math.round(this.pictures.perSecond(now) * 100) / 100 : null,
      keyframeIntervalFrames: this.keyInterval?.frames ?? null,
      keyframeIntervalS: this.keyInterval?.seconds ?? null,
      width: this.size?.width ?? null,
      height: this.size?.height ?? null,
    };
  }
}

/** The size from the first SPS of `sprop-parameter-sets` (RFC 6184 8.1). */
function spropSize(lines: string[]): { width: number; height: number } | null {
  const sprop = /sprop-parameter-sets=([A-Za-z0-9+/=]+)/.exec(lines.find((l) => l.startsWith('a=fmtp:')) ?? '');
  const first = sprop?.[1]?.split(',')[0];
  return first ? sizeOf(Buffer.from(first, 'base64')) : null;
}

/** The size from an SPS sent as a single NAL unit or inside a STAP-A. */
function inBandSize(packet: Buffer): { width: number; height: number } | null {
  const at = payloadOffset(packet);
  if (at < 0) return null;
  const type = packet[at]! & 0x1f;
  if (type === 7) return sizeOf(packet.subarray(at));
  if (type !== 24) return null;
  for (let i = at + 1; i + 2 < packet.length;) {
    const size = packet.readUInt16BE(i);
    if ((packet[i + 2]! & 0x1f) === 7) return sizeOf(packet.subarray(i + 2, i + 2 + size));
    i += 2 + size;
  }
  return null;
}

function sizeOf(sps: Buffer): { width: number; height: number } | null {
  const info = sps.length > 3 ? parseSps(sps) : undefined;
  return info ? { width: info.width, height: info.height } : null;
}
