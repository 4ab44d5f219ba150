/**
 * What readers of one track see across publisher changes: one SSRC, sequence numbers without a jump and RTP time
 * that follows the wall clock through the gap. A new source starts with its own random SSRC, sequence and timestamp
 * base; its packets (and sender reports) are rewritten by fixed offsets, so a reader's depacketizer and jitter buffer
 * never see the change (RFC 3550 5.1: a receiver would otherwise treat it as a new stream or as massive loss).
 */
import { rtpHeader, senderReport, type SenderReport } from './rtp-packet.js';

interface Mapping {
  ssrc: number;
  seqOffset: number;
  tsOffset: number;
}

/** See the file comment. */
export class TrackOutput {
  /** Output SSRC, sequence and timestamp of the last packet, and when it went out. */
  private last: { ssrc: number; seq: number; timestamp: number; at: number } | null = null;
  /** null until the current source's first packet (then identity for the first source). */
  private mapping: Mapping | null = null;

  constructor(private readonly clockRate: number) {}

  /** Output RTP time of the last packet and its arrival, for RTP-Info; null before any packet. */
  get lastPacket(): { timestamp: number; at: number } | null {
    return this.last;
  }

  /** A new source takes over: its first packet sets the offsets that continue the output. */
  newSource(): void {
    this.mapping = null;
  }

  /** The packet as readers get it (the same buffer when no rewrite is needed); null for a non-RTP packet. */
  rtp(packet: Buffer, now: number): Buffer | null {
    const header = rtpHeader(packet);
    if (!header) return null;
    const ssrc = packet.readUInt32BE(8);
    const mapping = (this.mapping ??= this.continueFrom(header.seq, header.timestamp, ssrc, now));
    const out = rewrite(packet, mapping, header.seq, header.timestamp, ssrc);
    this.last = {
      ssrc: mapping.ssrc,
      seq: (header.seq + mapping.seqOffset) & 0xffff,
      timestamp: (header.timestamp + mapping.tsOffset) >>> 0,
      at: now,
    };
    return out;
  }

  /**
   * A sender report as readers get it. null for a report of a new source before its first RTP packet: its timestamps
   * cannot be mapped yet (the next report comes a few seconds later). The first source's are passed as they are.
   */
  rtcp(packet: Buffer): { packet: Buffer; report: SenderReport | null } | null {
    const report = senderReport(packet);
    if (!report) return { packet, report: null };
    if (!this.mapping && !this.last) return { packet, report };
    const m = this.mapping;
    if (!m) return null;
    const timestamp = (report.rtpTimestamp + m.tsOffset) >>> 0;
    if (m.tsOffset === 0 && packet.readUInt32BE(4) === m.ssrc) return { packet, report };
    const out = Buffer.from(packet);
    out.writeUInt32BE(m.ssrc, 4);
    out.writeUInt32BE(timestamp, 16);
    return { packet: out, report: { ntpSeconds: report.ntpSeconds, rtpTimestamp: timestamp } };
  }

  private continueFrom(seq: number, timestamp: number, ssrc: number, now: number): Mapping {
    const last = this.last;
    if (!last) return { ssrc, seqOffset: 0, tsOffset: 0 };
    // One tick at least, so that the first new frame never shares a timestamp with the last old one.
    const gap = Math.max(1, Math.round(((now - last.at) * this.clockRate) / 1000));
    return {
      ssrc: last.ssrc,
      seqOffset: (last.seq + 1 - seq) & 0xffff,
      tsOffset: (last.timestamp + gap - timestamp) >>> 0,
    };
  }
}

function rewrite(packet: Buffer, m: Mapping, seq: number, timestamp: number, ssrc: number): Buffer {
  if (m.seqOffset === 0 && m.tsOffset === 0 && m.ssrc === ssrc) return packet;
  // A copy: the packet may be a view into a publisher's socket buffer or shared with another path.
  const out = Buffer.from(packet);
  out.writeUInt16BE((seq + m.seqOffset) & 0xffff, 2);
  out.writeUInt32BE((timestamp + m.tsOffset) >>> 0, 4);
  out.writeUInt32BE(m.ssrc, 8);
  return out;
}
