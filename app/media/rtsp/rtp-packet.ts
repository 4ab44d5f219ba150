/**
 * Reads the few RTP fields the server uses (RFC 3550): sequence number, timestamp, payload offset, and whether a
 * packet starts a point where a decoder can join (H.264 RFC 6184, H.265 RFC 7798). Payloads are otherwise opaque.
 */

/** Sequence number and timestamp of an RTP packet; null when it is not RTP version 2 or too short. */
export function rtpHeader(packet: Buffer): { seq: number; timestamp: number; marker: boolean } | null {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return null;
  return { seq: packet.readUInt16BE(2), timestamp: packet.readUInt32BE(4), marker: (packet[1]! & 0x80) !== 0 };
}

/** The clock mapping of an RTCP sender report (RFC 3550 6.4.1): NTP wall-clock seconds and the RTP time of that instant. */
export interface SenderReport {
  ntpSeconds: number;
  rtpTimestamp: number;
}

/** The sender report at the head of a (compound) RTCP packet; null for anything else. */
export function senderReport(packet: Buffer): SenderReport | null {
  if (packet.length < 20 || packet[0]! >> 6 !== 2 || packet[1] !== 200) return null;
  return {
    ntpSeconds: packet.readUInt32BE(8) + packet.readUInt32BE(12) / 2 ** 32,
    rtpTimestamp: packet.readUInt32BE(16),
  };
}

/** Offset of the payload after CSRCs and the header extension; -1 when the packet is truncated. */
export function payloadOffset(packet: Buffer): number {
  if (packet.length < 12) return -1;
  let offset = 12 + (packet[0]! & 0x0f) * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return -1;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  return offset < packet.length ? offset : -1;
}

/** How a track's readers join: at a random-access point of the codec, or at any packet. */
export type JoinRule = 'h264' | 'h265' | 'any';

/** The join rule of a codec name from `a=rtpmap`. */
export function joinRule(codec: string): JoinRule {
  const c = codec.toUpperCase();
  if (c === 'H264') return 'h264';
  if (c === 'H265' || c === 'HEVC') return 'h265';
  return 'any';
}

/**
 * True when a reader may start with this packet. For H.264/H.265 that is the first packet of an IDR/IRAP picture or
 * of the parameter sets in front of one, so that a joining decoder never sees references it does not have.
 */
export function isJoinPoint(rule: JoinRule, packet: Buffer): boolean {
  if (rule === 'any') return true;
  const at = payloadOffset(packet);
  if (at < 0) return false;
  return rule === 'h264' ? h264JoinPoint(packet, at) : h265JoinPoint(packet, at);
}

function h264JoinPoint(p: Buffer, at: number): boolean {
  const type = p[at]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 24) {
    // STAP-A: 16-bit size, then a NAL; any SPS or IDR inside makes it a join point.
    for (let i = at + 1; i + 2 < p.length;) {
      const size = p.readUInt16BE(i);
      const inner = p[i + 2]! & 0x1f;
      if (inner === 5 || inner === 7) return true;
      i += 2 + size;
    }
    return false;
  }
  if (type === 28 && at + 1 < p.length) {
    // FU-A: only the fragment carrying the start bit begins a NAL.
    const fu = p[at + 1]!;
    return (fu & 0x80) !== 0 && ((fu & 0x1f) === 5 || (fu & 0x1f) === 7);
  }
  return false;
}

function h265JoinPoint(p: Buffer, at: number): boolean {
  if (at + 1 >= p.length) return false;
  const type = (p[at]! >> 1) & 0x3f;
  const irapOrParams = (t: number): boolean => (t >= 16 && t <= 21) || (t >= 32 && t <= 34);
  if (irapOrParams(type)) return true;
  if (type === 48) {
    // Aggregation packet (no DONL, as sprop-max-don-diff is 0 for every camera we know): 16-bit size + NAL.
    for (let i = at + 2; i + 2 < p.length;) {
      const size = p.readUInt16BE(i);
      if (irapOrParams((p[i + 2]! >> 1) & 0x3f)) return true;
      i += 2 + size;
    }
    return false;
  }
  if (type === 49 && at + 2 < p.length) {
    const fu = p[at + 2]!;
    return (fu & 0x80) !== 0 && irapOrParams(fu & 0x3f);
  }
  return false;
}
