/**
 * H.264 over RTP, RFC 6184 packetization-mode=1: a NAL unit that fits the payload budget travels alone (5.6), a
 * larger one is cut into FU-A fragments (5.8); the marker bit closes each access unit. Parameter sets go in-band
 * before every IDR so that a reader joining at a key frame can decode without the SDP's sprop-parameter-sets.
 */
import { DEFAULT_MAX_PAYLOAD, RtpStream, RTP_HEADER_BYTES, type RtpStreamOptions } from './rtp-stream.js';

/** Options of H264Packetizer; the RTP fields are random unless fixed (tests). */
export interface H264PacketizerOptions extends Partial<RtpStreamOptions> {
  /** Largest RTP payload, header excluded (default DEFAULT_MAX_PAYLOAD). */
  maxPayloadBytes?: number;
}

/** Parameter sets to put in front of IDR pictures. */
export interface ParameterSets {
  sps: Buffer[];
  pps: Buffer[];
}

const NAL_IDR = 5;
const NAL_SPS = 7;
const FU_A = 28;

/**
 * NAL types never sent: 9 (access unit delimiter: the marker bit delimits access units, and parameter sets must
 * not precede one), 12 (filler data: bandwidth for nothing), and 0 and 24-31 (unspecified in H.264, and 24-31
 * would be read by depacketizers as STAP/MTAP/FU structures).
 */
function dropped(type: number): boolean {
  return type === 9 || type === 12 || type === 0 || type >= 24;
}

/** See the file comment; one instance per video track. */
export class H264Packetizer {
  readonly rtp: RtpStream;
  readonly maxPayloadBytes: number;

  constructor(opts: H264PacketizerOptions = {}) {
    this.rtp = new RtpStream({ ...opts, payloadType: opts.payloadType ?? 96 });
    this.maxPayloadBytes = Math.max(16, Math.floor(opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD));
  }

  /**
   * The RTP packets of one access unit. `ticks` is its presentation time on the 90 kHz clock (no offset);
   * `paramSets` are inserted first when the unit is an IDR (or flagged `keyframe`) and carries no SPS itself.
   */
  packetize(nalus: readonly Buffer[], ticks: number, keyframe: boolean, paramSets?: ParameterSets): Buffer[] {
    const units: Buffer[] = [];
    let idr = keyframe;
    let hasSps = false;
    for (const nal of nalus) {
      const type = nal[0]! & 0x1f;
      if (nal.length === 0 || dropped(type)) continue;
      if (type === NAL_IDR) idr = true;
      if (type === NAL_SPS) hasSps = true;
      units.push(nal);
    }
    if (units.length === 0) return [];
    if (idr && !hasSps && paramSets) units.unshift(...paramSets.sps, ...paramSets.pps);
    const timestamp = this.rtp.timestamp(ticks);
    const out: Buffer[] = [];
    units.forEach((nal, i) => this.packetizeNal(nal, timestamp, i === units.length - 1, out));
    return out;
  }

  private packetizeNal(nal: Buffer, timestamp: number, last: boolean, out: Buffer[]): void {
    if (nal.length <= this.maxPayloadBytes) {
      const p = this.rtp.packet(nal.length, timestamp, last);
      nal.copy(p, RTP_HEADER_BYTES);
      out.push(p);
      return;
    }
    // FU-A: the indicator keeps F and NRI of the NAL header, the FU header its type; the header byte itself is
    // not sent, the receiver rebuilds it from these two.
    const indicator = (nal[0]! & 0xe0) | FU_A;
    const type = nal[0]! & 0x1f;
    const chunk = this.maxPayloadBytes - 2;
    for (let at = 1; at < nal.length; at += chunk) {
      const end = Math.min(at + chunk, nal.length);
      const isLast = end === nal.length;
      const p = this.rtp.packet(2 + end - at, timestamp, last && isLast);
      p[RTP_HEADER_BYTES] = indicator;
      p[RTP_HEADER_BYTES + 1] = (at === 1 ? 0x80 : 0) | (isLast ? 0x40 : 0) | type;
      nal.copy(p, RTP_HEADER_BYTES + 2, at, end);
      out.push(p);
    }
  }
}
