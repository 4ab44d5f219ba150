/**
 * The little of SDP (RFC 8866) the server needs: media sections, their control URLs, codec names and clock rates.
 * The description itself is passed through untouched except for the control attributes.
 */
import type { RtspTrackInfo } from '../../defs/rtsp.js';

/** One `m=` section. */
export interface SdpMedia extends RtspTrackInfo {
  /** `a=control` as announced by the publisher ('' when absent). */
  control: string;
  /** The section's lines, `m=` first. */
  lines: string[];
}

/** A parsed session description. */
export interface SessionDescription {
  sessionLines: string[];
  media: SdpMedia[];
}

/** More tracks than any camera sends; bounds the work a hostile ANNOUNCE can cause. */
export const MAX_TRACKS = 16;

const STATIC_PAYLOADS: Record<number, [string, number]> = {
  0: ['PCMU', 8000],
  8: ['PCMA', 8000],
  14: ['MPA', 90000],
  26: ['JPEG', 90000],
  32: ['MPV', 90000],
  33: ['MP2T', 90000],
};

/** Parses an SDP; returns an error message instead of throwing when it is unusable. */
export function parseSdp(text: string): SessionDescription | { error: string } {
  const lines = text.split(/\r?\n/).filter((l) => /^[a-z]=/.test(l));
  if (lines[0] !== 'v=0') return { error: 'SDP must start with v=0' };
  const sessionLines: string[] = [];
  const media: SdpMedia[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      if (media.length >= MAX_TRACKS) return { error: `more than ${MAX_TRACKS} media sections` };
      const [kind = '', , , fmt = ''] = line.slice(2).split(' ');
      media.push({ index: media.length, media: kind, codec: fmt, clockRate: 0, control: '', lines: [line] });
      continue;
    }
    const current = media[media.length - 1];
    if (!current) {
      sessionLines.push(line);
      continue;
    }
    current.lines.push(line);
    if (line.startsWith('a=control:')) current.control = line.slice('a=control:'.length).trim();
    const rtpmap = /^a=rtpmap:(\d+) ([^/\s]+)\/(\d+)/.exec(line);
    if (rtpmap && rtpmap[1] === current.lines[0]!.split(' ')[3]) {
      current.codec = rtpmap[2]!;
      current.clockRate = Number(rtpmap[3]);
    }
  }
  if (media.length === 0) return { error: 'SDP has no media section' };
  for (const m of media) {
    const known = STATIC_PAYLOADS[Number(m.codec)];
    if (m.clockRate === 0 && known && /^\d+$/.test(m.codec)) [m.codec, m.clockRate] = known;
  }
  return { sessionLines, media };
}

/** The SDP handed to readers: the publisher's, with controls rewritten to `trackID=N` and `a=control:*`. */
export function readerSdp(sdp: SessionDescription): string {
  const out = sdp.sessionLines.filter((l) => !l.startsWith('a=control:'));
  out.push('a=control:*');
  for (const m of sdp.media) {
    out.push(...m.lines.filter((l) => !l.startsWith('a=control:')), `a=control:trackID=${m.index}`);
  }
  return `${out.join('\r\n')}\r\n`;
}

/** Track info for stats (no SDP lines). */
export function trackInfo(sdp: SessionDescription): RtspTrackInfo[] {
  return sdp.media.map(({ index, media, codec, clockRate }) => ({ index, media, codec, clockRate }));
}

/** `H264/90000`-style labels for events and logs. */
export function codecLabels(sdp: SessionDescription): string[] {
  return sdp.media.map((m) => (m.clockRate ? `${m.codec}/${m.clockRate}` : m.codec));
}

/**
 * Which announced track a publisher's SETUP addresses. `rest` is the part of the URL path after the stream path
 * (e.g. `streamid=0`), `pathname` the whole URL path for absolute controls. Returns -1 when none matches.
 */
export function findPublisherTrack(sdp: SessionDescription, rest: string, pathname: string): number {
  for (const m of sdp.media) {
    if (m.control === '' || m.control === '*') continue;
    if (m.control.includes('://')) {
      if (safePathname(m.control) === pathname) return m.index;
    } else if (m.control === rest || m.control.replace(/^\/+/, '') === rest) {
      return m.index;
    }
  }
  if (sdp.media.length === 1 && (rest === '' || sdp.media[0]!.control === '')) return 0;
  return -1;
}

/** Which track a reader's SETUP addresses (`trackID=N`, or the aggregate URL of a single-track path). */
export function findReaderTrack(sdp: SessionDescription, rest: string): number {
  if (rest === '' && sdp.media.length === 1) return 0;
  const m = /^trackID=(\d{1,2})$/.exec(rest);
  if (!m) return -1;
  const index = Number(m[1]);
  return index < sdp.media.length ? index : -1;
}

function safePathname(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/**
 * True when a stream described by `next` can continue one described by `prev` for readers that were given `prev`:
 * the same tracks with the same payload type, codec, clock rate and format parameters (a decoder set up from the
 * first SDP's parameter sets must be able to decode the second stream). Ports, bandwidth and controls may differ.
 */
export function canContinue(prev: SessionDescription, next: SessionDescription): boolean {
  return (
    prev.media.length === next.media.length && prev.media.every((m, i) => signature(m) === signature(next.media[i]!))
  );
}

function signature(m: SdpMedia): string {
  const [kind = '', , proto = '', ...formats] = m.lines[0]!.slice(2).split(' ');
  const codecLines = m.lines.filter((l) => l.startsWith('a=rtpmap:') || l.startsWith('a=fmtp:'));
  // Whitespace after `;` in fmtp varies between muxers for the same parameters.
  return [kind, proto, formats.join(' '), ...codecLines.map((l) => l.replace(/;\s+/g, ';').trim())].join('\n');
}
