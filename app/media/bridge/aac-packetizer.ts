/**
 * AAC over RTP, RFC 3640 mpeg4-generic in AAC-hbr mode (3.3.6): a 16-bit AU-headers-length (in bits), one AU-header
 * of 13-bit AU-size + 3-bit AU-index (0), then the raw AAC frame. One frame per packet: audio is a small share of
 * the bytes and this keeps the latency at one frame. A frame over the payload budget is fragmented (3.2.3): every
 * fragment repeats the AU-header with the size of the whole frame, and only the last one carries the marker bit.
 */
import { DEFAULT_MAX_PAYLOAD, RtpStream, RTP_HEADER_BYTES, type RtpStreamOptions } from './rtp-stream.js';

/** Options of AacPacketizer; the RTP fields are random unless fixed (tests). */
export interface AacPacketizerOptions extends Partial<RtpStreamOptions> {
  maxPayloadBytes?: number;
}

/** The largest AU-size that 13 bits can carry. */
export const MAX_AAC_FRAME = 8191;

/** The fmtp parameters this packetizer's layout implies (RFC 3640 4.1). */
export const AAC_HBR_FMTP =
  'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3';

/** See the file comment; one instance per audio track. */
export class AacPacketizer {
  readonly rtp: RtpStream;
  readonly maxPayloadBytes: number;

  constructor(opts: AacPacketizerOptions = {}) {
    this.rtp = new RtpStream({ ...opts, payloadType: opts.payloadType ?? 97 });
    this.maxPayloadBytes = Math.max(16, Math.floor(opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD));
  }

  /** The packets of one raw AAC frame at `ticks` on the sample clock (no offset); [] for an unsendable frame. */
  packetize(frame: Buffer, ticks: number): Buffer[] {
    if (frame.length === 0 || frame.length > MAX_AAC_FRAME) return [];
    const timestamp = this.rtp.timestamp(ticks);
    const room = this.maxPayloadBytes - 4;
    const out: Buffer[] = [];
    for (let at = 0; at < frame.length; at += room) {
      const end = Math.min(at + room, frame.length);
      const p = this.rtp.packet(4 + end - at, timestamp, end === frame.length);
      const h = RTP_HEADER_BYTES;
      p.writeUInt16BE(16, h);
      p.writeUInt16BE((frame.length << 3) & 0xfff8, h + 2);
      frame.copy(p, h + 4, at, end);
      out.push(p);
    }
    return out;
  }
}
