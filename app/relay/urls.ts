/**
 * Checks and masks the URLs of relay streams. A URL reaches ffmpeg as one argv element (never a shell), but the
 * checks still refuse shell metacharacters, whitespace and anything but the stream's own protocols, so that what is
 * stored, logged and shown is plainly a camera or server address.
 */

/** Which end of a job a URL is for. */
export type UrlKind = 'rtsp_url' | 'rtmp_url';

const SCHEMES: Record<UrlKind, readonly string[]> = { rtsp_url: ['rtsp:', 'rtsps:'], rtmp_url: ['rtmp:', 'rtmps:'] };
const MAX_URL_CHARS = 2048;
/** Refused anywhere in a URL: they have no business in a stream address and are how shell injection starts. */
const SHELL_CHARS = /[`$;|<>\\"'{}]/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const SECRET_QUERY = /([?&](?:key|token|pass|password|secret|auth|sign)=)[^&#\s]*/gi;

/** The problems of `raw` as the URL `kind`; empty when it is fine. Each message starts with the field name. */
export function checkUrl(kind: UrlKind, raw: unknown): string[] {
  const bad = (why: string) => [`${kind}: ${why}`];
  if (typeof raw !== 'string' || raw.length === 0) return bad('expected a URL');
  if (raw.length > MAX_URL_CHARS) return bad(`longer than ${MAX_URL_CHARS} characters`);
  if (/[\p{Cc}\s]/u.test(raw)) return bad('contains whitespace or control characters');
  const shell = SHELL_CHARS.exec(raw);
  if (shell)
    return bad(`contains ${JSON.stringify(shell[0])}, not allowed in a stream URL (percent-encode it in a password)`);
  const queryAt = raw.indexOf('?');
  if (raw.slice(0, queryAt < 0 ? undefined : queryAt).includes('&'))
    return bad('contains "&" outside the query string');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  const wanted = SCHEMES[kind];
  if (!scheme || !wanted.includes(`${scheme}:`))
    return bad(
      `expected a ${wanted.map((s) => s.slice(0, -1)).join(' or ')} URL, got ${scheme ? `${scheme}://` : 'no scheme'}`,
    );
  if (!URL.canParse(raw)) return bad('is not a valid URL');
  const url = new URL(raw);
  const errors: string[] = [];
  const host = url.hostname;
  if (!host) errors.push('has no host');
  else if (!HOSTNAME.test(host) && !IPV6.test(host))
    errors.push(`host ${JSON.stringify(host.slice(0, 64))} is not a host name or IP address`);
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) errors.push('port must be 1-65535');
  else if (/^[^/]*\/\/[^/?]*:(?:[/?]|$)/.test(raw)) errors.push('has an empty port');
  if (url.hash || raw.includes('#')) errors.push('must not have a #fragment');
  errors.push(...checkCredentials(url));
  if (kind === 'rtmp_url') {
    const segments = url.pathname.split('/').filter(Boolean);
    if (segments.length < 2) errors.push('expected a path /<app>/<stream name>');
  }
  return errors.map((e) => `${kind}: ${e}`);
}

function checkCredentials(url: URL): string[] {
  if (!url.username && !url.password) return [];
  if (!url.username) return ['has a password without a user name'];
  let user: string;
  let password: string;
  try {
    user = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    return ['credentials have malformed percent-encoding'];
  }
  const out: string[] = [];
  if (user.length > 256 || password.length > 256) out.push('credentials longer than 256 characters');
  if (/\p{Cc}/u.test(user + password)) out.push('credentials contain control characters');
  return out;
}

/** `url` with the password shown as `***` (`rtsp://admin:***@cam/...`) and secret query values masked. */
export function maskUrl(url: string): string {
  if (!URL.canParse(url)) return maskText(url);
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(SECRET_QUERY, '$1***');
}

/** Free text (ffmpeg output, event data) with every URL password and secret query value masked. */
export function maskText(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*):([^\s/@'"]*)@/gi, '$1$2:***@')
    .replace(SECRET_QUERY, '$1***');
}
