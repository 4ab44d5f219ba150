/**
 * AAC from RTP, RFC 3640 mpeg4-generic (3.2-3.3): each packet's AU-headers give the sizes of the access units that
 * follow; the first AU has the packet's timestamp and each next one `frameSamples` later. A fragmented AU (one
 * AU-header whose size exceeds the packet) is collected until the marker bit. Only the sizelength/indexlength
 * layouts that fmtp announces are read (AAC-hbr 13/3/3 and AAC-lbr 6/2/2 in practice); no auxiliary data.
 */
import { rtpHeader } from '../rtsp/rtp-packet.js';
import { rtpPayload } from './h264-depacketizer.js';

/** One raw AAC frame and its RTP timestamp (sample clock). */
export interface AacFrame {
  timestamp: number;
  data: Buffer;
}

/** The fmtp parameters the layout depends on. */
export interface AacLayout {
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
  frameSamples: number;
}

/** Reads `bits` bits at bit offset `at` of `buf` (big-endian); at most 16. */
function readBits(buf: Buffer, at: number, bits: number): number {
  let value = 0;
  for (let i = 0; i < bits; i++) {
    const bit = at + i;
    value = (value << 1) | ((buf[bit >> 3]! >> (7 - (bit & 7))) & 1);
  }
  return value;
}

/** See the file comment; one instance per audio track. */
export class AacDepacketizer {
  private partial: { timestamp: number; size: number; parts: Buffer[]; have: number } | null = null;
  /** Packets that could not be read. */
  lost = 0;

  constructor(private readonly layout: AacLayout) {}

  /** Feeds one RTP packet; returns the frames it completed. */
  push(packet: Buffer): AacFrame[] {
    const header = rtpHeader(packet);
    const payload = header && rtpPayload(packet);
    if (!header || !payload || payload.length < 2) return this.bad();
    const { sizeLength, indexLength, indexDeltaLength, frameSamples } = this.layout;
    const headerBits = payload.readUInt16BE(0);
    const dataAt = 2 + Math.ceil(headerBits / 8);
    if (dataAt > payload.length || sizeLength === 0 || sizeLength > 16) return this.bad();
    const sizes: number[] = [];
    for (let bit = 0; bit + sizeLength <= headerBits;) {
      sizes.push(readBits(payload, 16 + bit, sizeLength));
      bit += sizeLength + (sizes.length === 1 ? indexLength : indexDeltaLength);
    }
    const data = payload.subarray(dataAt);
    if (this.partial || (sizes.length === 1 && sizes[0]! > data.length)) return this.fragment(header, sizes, data);
    const frames: AacFrame[] = [];
    let at = 0;
    for (const [i, size] of sizes.entries()) {
      if (size === 0 || at + size > data.length) return [...frames, ...this.bad()];
      frames.push({ timestamp: (header.timestamp + i * frameSamples) >>> 0, data: data.subarray(at, at + size) });
      at += size;
    }
    return frames;
  }

  private fragment(header: { timestamp: number; marker: boolean }, sizes: number[], data: Buffer): AacFrame[] {
    const size = sizes[0];
    if (sizes.length !== 1 || size === undefined) return this.bad();
    const p = this.partial;
    if (p && (p.timestamp !== header.timestamp || p.size !== size)) this.partial = null;
    this.partial ??= { timestamp: header.timestamp, size, parts: [], have: 0 };
    const current = this.partial;
    current.parts.push(data);
    current.have += data.length;
    if (current.have > size) return this.bad();
    if (!header.marker) return [];
    this.partial = null;
    return current.have === size ? [{ timestamp: current.timestamp, data: Buffer.concat(current.parts) }] : this.bad();
  }

  private bad(): AacFrame[] {
    this.lost++;
    this.partial = null;
    return [];
  }
}
