/**
 * Per-stream statistics, fed with every media message of the publisher (NMS AVPacket, FLV tag body in `data`).
 * Only headers are read: codec ids, the AVC SPS for the resolution, the AAC config. Never throws on bad media.
 */
import { spsInfo } from './nms.js';
import type { NmsAvPacket } from './nms-types.js';
import type { RtmpStreamInfo, RtmpStreamStats } from './types.js';

const LEGACY_VIDEO: Record<number, string> = {
  2: 'H263',
  3: 'Screen',
  4: 'VP6',
  5: 'VP6A',
  6: 'Screen2',
  7: 'H264',
  12: 'H265', // the pre-enhanced-RTMP convention of several Chinese encoders and forks
};
const FOURCC_VIDEO: Record<string, string> = { avc1: 'H264', hvc1: 'H265', av01: 'AV1', vp09: 'VP9' };
const LEGACY_AUDIO: Record<number, string> = {
  0: 'PCM',
  1: 'ADPCM',
  2: 'MP3',
  3: 'PCM',
  4: 'Nellymoser',
  5: 'Nellymoser',
  6: 'Nellymoser',
  7: 'G711A',
  8: 'G711U',
  10: 'AAC',
  11: 'Speex',
  14: 'MP3',
};
const FOURCC_AUDIO: Record<string, string> = {
  mp4a: 'AAC',
  Opus: 'Opus',
  fLaC: 'FLAC',
  'ac-3': 'AC3',
  'ec-3': 'EAC3',
  '.mp3': 'MP3',
};
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const SAMPLE_EVERY_MS = 250;

interface Sample {
  t: number;
  bytes: number;
  frames: number;
}

/** What a snapshot needs from the live session (NMS's counters and onMetaData fields). */
export interface SessionFigures {
  inBytes: number;
  videoWidth: number;
  videoHeight: number;
  players: number;
}

/** See the file comment. */
export class StreamStats {
  private videoCodec: string | null = null;
  private audioCodec: string | null = null;
  private width: number | null = null;
  private height: number | null = null;
  private sampleRate: number | null = null;
  private channels: number | null = null;
  private videoFrames = 0;
  private audioFrames = 0;
  private lastKey: { dts: number; frame: number } | null = null;
  private keyframeIntervalMs: number | null = null;
  private gopFrames: number | null = null;
  private samples: Sample[] = [];

  constructor(
    readonly info: RtmpStreamInfo,
    private readonly windowMs: number,
    private readonly startedAt = Date.now(),
  ) {}

  /** Accounts one message; `inBytes` is the session's socket byte count so far. */
  onPacket(p: NmsAvPacket, inBytes: number, now = Date.now()): void {
    if (p.size >= 1 && p.codec_type === 9) this.onVideo(p.data, p.size, p.dts);
    else if (p.size >= 1 && p.codec_type === 8) this.onAudio(p.data, p.size);
    const last = this.samples[this.samples.length - 1];
    if (!last || now - last.t >= SAMPLE_EVERY_MS) this.addSample({ t: now, bytes: inBytes, frames: this.videoFrames });
  }

  /** The current figures. */
  snapshot(session: SessionFigures, now = Date.now()): RtmpStreamStats {
    const cur = { t: now, bytes: session.inBytes, frames: this.videoFrames };
    this.addSample(cur);
    const first = this.samples[0]!;
    const dt = (cur.t - first.t) / 1000;
    return {
      ...this.info,
      videoCodec: this.videoCodec,
      audioCodec: this.audioCodec,
      width: this.width ?? (session.videoWidth || null),
      height: this.height ?? (session.videoHeight || null),
      audioSampleRate: this.sampleRate,
      audioChannels: this.channels,
      bytesIn: session.inBytes,
      bitrateKbps: dt > 0 ? Math.round(((cur.bytes - first.bytes) * 8) / dt / 1000) : 0,
      fps: dt > 0 ? Math.round(((cur.frames - first.frames) / dt) * 100) / 100 : 0,
      keyframeIntervalMs: this.keyframeIntervalMs,
      gopFrames: this.gopFrames,
      videoFrames: this.videoFrames,
      audioFrames: this.audioFrames,
      players: session.players,
      publishedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: now - this.startedAt,
    };
  }

  private addSample(s: Sample): void {
    const last = this.samples[this.samples.length - 1];
    if (last && last.t === s.t) this.samples[this.samples.length - 1] = s;
    else this.samples.push(s);
    // Keep the newest sample at or before the window start as the base of the rates.
    while (this.samples.length > 2 && this.samples[1]!.t <= s.t - this.windowMs) this.samples.shift();
  }

  private onVideo(d: Buffer, size: number, dts: number): void {
    const frameType = (d[0]! >> 4) & 0x07;
    let isFrame: boolean;
    let isSequenceHeader: boolean;
    if (d[0]! & 0x80) {
      // Enhanced RTMP: packet type in the low nibble, FourCC after it.
      const packetType = d[0]! & 0x0f;
      if (size >= 5) this.videoCodec ??= FOURCC_VIDEO[d.toString('latin1', 1, 5)] ?? d.toString('latin1', 1, 5);
      isSequenceHeader = packetType === 0;
      isFrame = packetType === 1 || packetType === 3;
    } else {
      const codecId = d[0]! & 0x0f;
      this.videoCodec ??= LEGACY_VIDEO[codecId] ?? `flv-video-${codecId}`;
      const hasPacketType = codecId === 7 || codecId === 12;
      isSequenceHeader = hasPacketType && size >= 2 && d[1] === 0;
      isFrame = hasPacketType ? size >= 2 && d[1] === 1 : frameType !== 5;
      if (isSequenceHeader && codecId === 7) this.readAvcConfig(d, size);
    }
    if (isSequenceHeader || !isFrame) return;
    this.videoFrames++;
    if (frameType !== 1) return;
    if (this.lastKey) {
      this.keyframeIntervalMs = dts - this.lastKey.dts;
      this.gopFrames = this.videoFrames - this.lastKey.frame;
    }
    this.lastKey = { dts, frame: this.videoFrames };
  }

  /** AVCDecoderConfigurationRecord after the 5-byte FLV video header: the first SPS gives the picture size. */
  private readAvcConfig(d: Buffer, size: number): void {
    if (size < 13 || (d[10]! & 0x1f) === 0) return;
    const spsLength = d.readUInt16BE(11);
    if (13 + spsLength > size) return;
    const dims = spsInfo.parseH264Sps(d.subarray(13, 13 + spsLength));
    if (dims) {
      this.width = dims.width;
      this.height = dims.height;
    }
  }

  private onAudio(d: Buffer, size: number): void {
    const format = d[0]! >> 4;
    if (format === 9) {
      if (size >= 5) this.audioCodec ??= FOURCC_AUDIO[d.toString('latin1', 1, 5)] ?? d.toString('latin1', 1, 5);
      if ((d[0]! & 0x0f) === 1) this.audioFrames++; // AudioPacketType CodedFrames
      return;
    }
    this.audioCodec ??= LEGACY_AUDIO[format] ?? `flv-audio-${format}`;
    if (format === 10 && size >= 4 && d[1] === 0) {
      // AudioSpecificConfig: objectType(5) frequencyIndex(4) channelConfiguration(4).
      this.sampleRate = AAC_RATES[((d[2]! & 0x07) << 1) | (d[3]! >> 7)] ?? null;
      this.channels = (d[3]! >> 3) & 0x0f || null;
      return;
    }
    this.audioFrames++;
  }
}
