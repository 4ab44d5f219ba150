/** Control URLs of a DESCRIBE answer (RFC 2326 §C.1.1), and the SDP that is published for the tracks set up. */
import type { SessionDescription } from '../rtsp/sdp.js';

/** `url` without user and password (for logs, and for request lines a camera may have echoed them into). */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return '(invalid URL)';
  }
}

/** What controls are relative to: Content-Base, else Content-Location, else the DESCRIBE request URL. */
export function baseUrl(headers: Map<string, string>, requestUrl: string): string {
  for (const name of ['content-base', 'content-location']) {
    const value = headers.get(name);
    if (!value) continue;
    try {
      const u = new URL(value, requestUrl);
      if (u.protocol === 'rtsp:') return withoutCredentials(u.href);
    } catch {
      // an unusable header is ignored, as if absent
    }
  }
  return requestUrl;
}

/**
 * The absolute URL of an `a=control` value. Relative controls are appended to the base, as ffmpeg, live555 and
 * gortsplib do, rather than resolved like links: `rtsp://h/stream1` + `trackID=0` must give
 * `rtsp://h/stream1/trackID=0`, which cameras without a Content-Base expect.
 */
export function resolveControl(base: string, control: string): string {
  if (control === '' || control === '*') return base;
  if (/^rtsps?:\/\//i.test(control)) return withoutCredentials(control);
  const rest = control.replace(/^\/+/, '');
  return base.endsWith('/') ? `${base}${rest}` : `${base}/${rest}`;
}

/** The aggregate URL for PLAY: the session-level control if there is one, else the base. */
export function aggregateUrl(sdp: SessionDescription, base: string): string {
  const line = sdp.sessionLines.find((l) => l.startsWith('a=control:'));
  return resolveControl(base, line ? line.slice('a=control:'.length).trim() : '');
}

/** True when `url` can go into a request line (no spaces or control characters, bounded). */
export function usableInRequest(url: string): boolean {
  if (url.length > 2048) return false;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

/**
 * The camera's SDP restricted to the media sections that were set up, in their order: track N of the published
 * path is the N-th of `indexes`. Controls are left as they are; the RTSP server replaces them for its readers.
 */
export function publishSdp(sdp: SessionDescription, indexes: readonly number[]): string {
  const lines = [...sdp.sessionLines, ...indexes.flatMap((i) => sdp.media[i]?.lines ?? [])];
  return `${lines.join('\r\n')}\r\n`;
}
