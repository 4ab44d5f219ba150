/**
 * H.264 from RTP (RFC 6184): single NAL unit packets, STAP-A (5.7.1) and FU-A (5.8) are reassembled into access
 * units, one per RTP timestamp (the marker bit closes a unit early). A FU-A that loses a fragment is dropped whole,
 * and so is every picture after a loss until the next IDR: a decoder fed a picture with a missing slice shows grey
 * smears until then anyway, and a relay must not forward what it knows to be broken.
 */
import { payloadOffset, rtpHeader } from '../rtsp/rtp-packet.js';

/** One complete access unit. `timestamp` is the RTP timestamp (90 kHz). */
export interface AccessUnit {
  timestamp: number;
  nalus: Buffer[];
  keyframe: boolean;
}

const NAL_IDR = 5;
const STAP_A = 24;
const FU_A = 28;
/** More than any camera puts in one picture; bounds what a hostile stream can make us hold. */
const MAX_AU_BYTES = 8 * 1024 * 1024;

/** RTP payload without padding (RFC 3550 5.1, P bit); null when malformed. */
export function rtpPayload(packet: Buffer): Buffer | null {
  const offset = payloadOffset(packet);
  if (offset < 0) return null;
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  const end = packet.length - padding;
  return end > offset ? packet.subarray(offset, end) : null;
}

/** See the file comment; one instance per video track. */
export class H264Depacketizer {
  private nalus: Buffer[] = [];
  private bytes = 0;
  private timestamp: number | null = null;
  private fragments: Buffer[] | null = null;
  private lastSeq: number | null = null;
  /** A loss was seen: pictures are dropped until an IDR. */
  private broken = true;
  /** Packets lost or malformed since creation. */
  lost = 0;

  /** Feeds one RTP packet; returns the access units it completed (zero, one, or two on a timestamp change). */
  push(packet: Buffer): AccessUnit[] {
    const header = rtpHeader(packet);
    const payload = header && rtpPayload(packet);
    if (!header || !payload) {
      this.lost++;
      return [];
    }
    const out: AccessUnit[] = [];
    if (this.lastSeq !== null && header.seq !== ((this.lastSeq + 1) & 0xffff)) this.loss();
    this.lastSeq = header.seq;
    if (this.timestamp !== null && header.timestamp !== this.timestamp) this.flush(out);
    this.timestamp = header.timestamp;
    this.unpack(payload);
    if (header.marker) this.flush(out);
    return out;
  }

  private unpack(payload: Buffer): void {
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) return this.add(payload);
    if (type === STAP_A) {
      for (let at = 1; at + 2 <= payload.length;) {
        const size = payload.readUInt16BE(at);
        at += 2;
        if (size === 0 || at + size > payload.length) return this.loss();
        this.add(payload.subarray(at, at + size));
        at += size;
      }
      return;
    }
    if (type === FU_A && payload.length > 2) {
      const fu = payload[1]!;
      const start = (fu & 0x80) !== 0;
      const end = (fu & 0x40) !== 0;
      if (start) this.fragments = [Buffer.from([(payload[0]! & 0xe0) | (fu & 0x1f)])];
      else if (!this.fragments) return; // the start was lost: loss() already counted it
      this.fragments.push(payload.subarray(2));
      if (end) {
        this.add(Buffer.concat(this.fragments));
        this.fragments = null;
      }
      return;
    }
    this.lost++; // MTAP, FU-B and reserved types: not sent by any camera we relay
  }

  private add(nal: Buffer): void {
    this.bytes += nal.length;
    if (this.bytes > MAX_AU_BYTES) return this.loss();
    this.nalus.push(nal);
  }

  private loss(): void {
    this.lost++;
    this.fragments = null;
    this.nalus = [];
    this.bytes = 0;
    this.broken = true;
  }

  private flush(out: AccessUnit[]): void {
    const nalus = this.nalus;
    const timestamp = this.timestamp;
    this.nalus = [];
    this.bytes = 0;
    this.fragments = null;
    if (nalus.length === 0 || timestamp === null) return;
    const keyframe = nalus.some((n) => (n[0]! & 0x1f) === NAL_IDR);
    if (keyframe) this.broken = false;
    if (this.broken) return;
    out.push({ timestamp, nalus, keyframe });
  }
}
