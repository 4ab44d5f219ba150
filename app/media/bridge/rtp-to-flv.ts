/**
 * RTP → FLV, the reverse of FlvToRtpBridge: an RtpSink that turns an RTSP stream's H.264 and AAC tracks back into
 * FLV tag bodies (what an RTMP server broadcasts), for the master's RTMP relay of a slave's F1.
 *
 * Timing: each track's RTP clock is unwrapped and counted from the first packet of the whole stream, the track's
 * start shifted by when its first packet arrived after the stream's first one (so audio and video start aligned
 * to within the network's jitter). Sender reports are not used yet. RTP carries presentation times only: pictures
 * go out with DTS = PTS, which is right for streams without B-frames (cameras and Cupola's presets).
 * Other codecs are skipped, whole tracks, and named in `skipped`.
 */
import { parseSdp, type SdpMedia } from '../rtsp/sdp.js';
import { AacDepacketizer } from './aac-depacketizer.js';
import { H264Depacketizer, type AccessUnit } from './h264-depacketizer.js';
import type { RtpSink } from './flv-bridge.js';
import { TAG_AUDIO, TAG_VIDEO } from './flv-tags.js';

/**
 * One FLV tag body with its role, as NMS's AVPacket flags name them: 0 audio config, 1 audio frame, 2 video config,
 * 3 key frame, 4 other picture.
 */
export interface FlvPacket {
  type: typeof TAG_AUDIO | typeof TAG_VIDEO;
  flags: 0 | 1 | 2 | 3 | 4;
  timestampMs: number;
  body: Buffer;
}

interface Track {
  clockRate: number;
  /** Extended RTP time of the previous packet, and the last 32-bit value seen. */
  ext: number;
  last: number | null;
  offsetMs: number | null;
  firstExt: number;
}

const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
/** AAC in FLV: sound format 10; rate, size and type bits are fixed by the spec for AAC (E.4.2.1). */
const AAC_SOUND = 0xaf;

function fmtp(media: SdpMedia): Record<string, string> {
  const line = media.lines.find((l) => l.startsWith('a=fmtp:'));
  const params: Record<string, string> = {};
  for (const part of (line?.slice(line.indexOf(' ') + 1) ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) params[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return params;
}

/** AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1) with 4-byte NAL lengths. */
export function avcConfigRecord(sps: Buffer, pps: Buffer): Buffer {
  const head = Buffer.from([1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1]);
  const len = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  return Buffer.concat([head, len(sps.length), sps, Buffer.from([1]), len(pps.length), pps]);
}

/** See the file comment. */
export class RtpToFlv implements RtpSink {
  /** Track indexes by role; tracks of other codecs are listed in `skipped`. */
  private readonly video: { index: number; depack: H264Depacketizer; track: Track } | null = null;
  private readonly audio: { index: number; depack: AacDepacketizer; track: Track; asc: Buffer } | null = null;
  readonly skipped: string[] = [];
  private sps: Buffer | null = null;
  private pps: Buffer | null = null;
  private configSent = false;
  private audioConfigSent = false;
  private startedAt: number | null = null;
  private closed = false;

  constructor(
    sdp: string,
    private readonly out: (packet: FlvPacket) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    const parsed = parseSdp(sdp);
    if ('error' in parsed) throw new Error(`RTP → FLV: ${parsed.error}`);
    for (const media of parsed.media) {
      const codec = media.codec.toUpperCase();
      const track = (): Track => ({ clockRate: media.clockRate, ext: 0, last: null, offsetMs: null, firstExt: 0 });
      if (media.media === 'video' && codec === 'H264' && !this.video && media.clockRate > 0) {
        const sets = (fmtp(media)['sprop-parameter-sets'] ?? '').split(',').filter(Boolean);
        for (const nal of sets.map((s) => Buffer.from(s, 'base64'))) this.noteParameterSet(nal);
        this.video = { index: media.index, depack: new H264Depacketizer(), track: track() };
        continue;
      }
      const params = fmtp(media);
      if (media.media === 'audio' && codec === 'MPEG4-GENERIC' && !this.audio && params.config) {
        const layout = {
          sizeLength: Number(params.sizelength ?? 13),
          indexLength: Number(params.indexlength ?? 3),
          indexDeltaLength: Number(params.indexdeltalength ?? 3),
          frameSamples: 1024,
        };
        const asc = Buffer.from(params.config, 'hex');
        this.audio = { index: media.index, depack: new AacDepacketizer(layout), track: track(), asc };
        continue;
      }
      this.skipped.push(`${media.media} ${media.codec}`);
    }
    if (!this.video && !this.audio) throw new Error('RTP → FLV: no H.264 or AAC track');
  }

  /** See RtpSink. */
  writeRtp(trackIndex: number, packet: Buffer): boolean {
    if (this.closed) return false;
    if (this.video?.index === trackIndex) {
      for (const au of this.video.depack.push(packet)) this.picture(au);
    } else if (this.audio?.index === trackIndex) {
      for (const frame of this.audio.depack.push(packet)) {
        const ms = this.timeOf(this.audio.track, frame.timestamp);
        if (!this.audioConfigSent) {
          this.audioConfigSent = true;
          this.emit(TAG_AUDIO, 0, ms, Buffer.concat([Buffer.from([AAC_SOUND, 0]), this.audio.asc]));
        }
        this.emit(TAG_AUDIO, 1, ms, Buffer.concat([Buffer.from([AAC_SOUND, 1]), frame.data]));
      }
    }
    return true;
  }

  /** See RtpSink (sender reports are not used yet, see the file comment). */
  writeRtcp(): boolean {
    return !this.closed;
  }

  /** See RtpSink. */
  close(): void {
    this.closed = true;
  }

  private picture(au: AccessUnit): void {
    const nalus: Buffer[] = [];
    for (const nal of au.nalus) {
      const type = nal[0]! & 0x1f;
      if (type === NAL_SPS || type === NAL_PPS) this.noteParameterSet(nal);
      else if (type !== NAL_AUD) nalus.push(nal);
    }
    if (!this.sps || !this.pps || nalus.length === 0) return;
    // Nothing before the first key frame: a player cannot start on anything else.
    if (!this.configSent && !au.keyframe) return;
    const ms = this.timeOf(this.video!.track, au.timestamp);
    if (!this.configSent) {
      this.configSent = true;
      this.emit(
        TAG_VIDEO,
        2,
        ms,
        Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), avcConfigRecord(this.sps, this.pps)]),
      );
    }
    const parts: Buffer[] = [Buffer.from([au.keyframe ? 0x17 : 0x27, 1, 0, 0, 0])];
    for (const nal of nalus) {
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(nal.length);
      parts.push(len, nal);
    }
    this.emit(TAG_VIDEO, au.keyframe ? 3 : 4, ms, Buffer.concat(parts));
  }

  /** A changed SPS or PPS means a new decoder configuration: sent again before the next picture. */
  private noteParameterSet(nal: Buffer): void {
    const type = nal[0]! & 0x1f;
    const current = type === NAL_SPS ? this.sps : this.pps;
    if (current?.equals(nal)) return;
    if (type === NAL_SPS) this.sps = Buffer.from(nal);
    else if (type === NAL_PPS) this.pps = Buffer.from(nal);
    this.configSent = false;
  }

  /** Milliseconds of `rtpTime` on the stream's timeline (see the file comment). */
  private timeOf(track: Track, rtpTime: number): number {
    if (track.last === null) {
      const now = this.now();
      this.startedAt ??= now;
      track.offsetMs = now - this.startedAt;
      track.firstExt = rtpTime;
      track.ext = rtpTime;
    } else {
      // Signed 32-bit difference: wraps forward, and a packet slightly out of order goes back a little.
      track.ext += ((rtpTime - track.last) << 0) | 0;
    }
    track.last = rtpTime;
    return Math.max(0, Math.round(track.offsetMs! + ((track.ext - track.firstExt) * 1000) / track.clockRate));
  }

  private emit(type: FlvPacket['type'], flags: FlvPacket['flags'], timestampMs: number, body: Buffer): void {
    this.out({ type, flags, timestampMs, body });
  }
}
