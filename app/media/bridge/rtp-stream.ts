/**
 * The RTP side of one outgoing track (RFC 3550): SSRC, sequence numbers and timestamp offset (random, so that a
 * re-published or restarted stream is never mistaken for the old one), packet and octet counts, and the RTCP
 * sender report + SDES CNAME that readers use to line tracks up.
 */
import { randomBytes } from 'node:crypto';

/** Fixed values for tests; random otherwise. */
export interface RtpStreamOptions {
  payloadType: number;
  ssrc?: number;
  initialSequence?: number;
  timestampOffset?: number;
}

/** Default RTP payload budget: 1200 bytes keeps packets under common MTUs even inside tunnels and VPNs. */
export const DEFAULT_MAX_PAYLOAD = 1200;

/** RTP header length without CSRCs or extensions. */
export const RTP_HEADER_BYTES = 12;

const TWO_32 = 4294967296;
/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2208988800;

function random32(): number {
  return randomBytes(4).readUInt32BE(0);
}

/** Sequence, SSRC and counters of one track; see the file comment. */
export class RtpStream {
  readonly payloadType: number;
  readonly ssrc: number;
  /** Added to every timestamp, modulo 2^32. */
  readonly timestampOffset: number;
  private seq: number;
  /** Packets and payload octets sent, for sender reports. */
  packetCount = 0;
  octetCount = 0;
  /** RTP timestamp (offset included) of the last packet; undefined before the first. */
  lastTimestamp: number | undefined;

  constructor(opts: RtpStreamOptions) {
    this.payloadType = opts.payloadType & 0x7f;
    this.ssrc = (opts.ssrc ?? random32()) >>> 0;
    this.seq = (opts.initialSequence ?? random32()) & 0xffff;
    this.timestampOffset = (opts.timestampOffset ?? random32()) >>> 0;
  }

  /** The sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.seq;
  }

  /** The RTP timestamp (offset added, wrapped to 32 bits) of a media time in clock units. */
  timestamp(ticks: number): number {
    return (this.timestampOffset + (Math.round(ticks) % TWO_32) + TWO_32) % TWO_32;
  }

  /**
   * A packet with room for `payloadBytes` after the header, which is already written; the caller fills the payload.
   * `timestamp` is a full RTP timestamp (from timestamp()).
   */
  packet(payloadBytes: number, timestamp: number, marker: boolean): Buffer {
    const p = Buffer.allocUnsafe(RTP_HEADER_BYTES + payloadBytes);
    p[0] = 0x80;
    p[1] = (marker ? 0x80 : 0) | this.payloadType;
    p.writeUInt16BE(this.seq, 2);
    p.writeUInt32BE(timestamp, 4);
    p.writeUInt32BE(this.ssrc, 8);
    this.seq = (this.seq + 1) & 0xffff;
    this.packetCount++;
    this.octetCount += payloadBytes;
    this.lastTimestamp = timestamp;
    return p;
  }

  /**
   * A compound RTCP packet: sender report (PT 200) mapping wall-clock `unixMs` to `rtpTimestamp`, then SDES with
   * `cname` (PT 202). RFC 3550 6.1 requires the CNAME in every compound packet; receivers group tracks by it.
   */
  senderReport(unixMs: number, rtpTimestamp: number, cname: string): Buffer {
    const name = Buffer.from(cname.slice(0, 255), 'utf8').subarray(0, 255);
    // SDES chunk: SSRC, item (type 1, length, text), at least one terminating zero, padded to 32 bits.
    const chunk = 4 + 2 + name.length + 1;
    const sdesBytes = 4 + Math.ceil(chunk / 4) * 4;
    const out = Buffer.alloc(28 + sdesBytes);
    out[0] = 0x80;
    out[1] = 200;
    out.writeUInt16BE(6, 2);
    out.writeUInt32BE(this.ssrc, 4);
    const seconds = Math.floor(unixMs / 1000);
    out.writeUInt32BE((seconds + NTP_UNIX_OFFSET_S) % TWO_32, 8);
    out.writeUInt32BE(Math.floor(((unixMs - seconds * 1000) / 1000) * TWO_32) >>> 0, 12);
    out.writeUInt32BE(rtpTimestamp >>> 0, 16);
    out.writeUInt32BE(this.packetCount % TWO_32, 20);
    out.writeUInt32BE(this.octetCount % TWO_32, 24);
    out[28] = 0x81;
    out[29] = 202;
    out.writeUInt16BE(sdesBytes / 4 - 1, 30);
    out.writeUInt32BE(this.ssrc, 32);
    out[36] = 1;
    out[37] = name.length;
    name.copy(out, 38);
    return out;
  }
}
