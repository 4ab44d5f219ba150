/**
 * Secrets in URLs and in text that quotes them (ffmpeg's log, event data), shown as `***`: the one rule for logs,
 * events, stored logs and API answers, whichever module prints the URL (Supervisor, relay controller, compressor).
 */

/** What a masked secret shows as; a client that sends it back means "keep the stored value" (unmaskUrl). */
export const MASK = '***';
/** Names of query parameters whose values are secrets: key, streamkey, token, access_token, password, auth, sign... */
export const SECRET_NAME = /key|token|secret|pass|auth|sign/i;
const SECRET_QUERY = /([?&][^=&#?\s'"]*(?:key|token|secret|pass|auth|sign)[^=&#?\s'"]*=)[^&#\s'"]*/gi;
/** An rtmp, rtmps, rtmpt... URL in free text, up to whitespace, a quote or an angle bracket. */
const RTMP_IN_TEXT = /\brtmp[a-z]{0,2}:\/\/[^\s'"<>]+/gi;
export const RTMP_SCHEME = /^rtmp[a-z]{0,2}:$/i;

/**
 * `url` with its secrets shown as `***`: the password (`rtsp://admin:***@cam/...`), the values of secret-named query
 * parameters (`?key=***`), and for rtmp(s) URLs the stream key, the last path segment after the app
 * (`rtmp://live.example.com/app/***`).
 */
export function maskUrl(url: string): string {
  if (!URL.canParse(url)) return maskText(url);
  const u = new URL(url);
  if (u.password) u.password = MASK;
  if (RTMP_SCHEME.test(u.protocol)) u.pathname = maskStreamKey(u.pathname);
  return u.toString().replace(SECRET_QUERY, `$1${MASK}`);
}

/** Free text (ffmpeg output, messages) with every URL password, rtmp stream key and secret query value masked. */
export function maskText(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*):([^\s/@'"]*)@/gi, `$1$2:${MASK}@`)
    .replace(RTMP_IN_TEXT, maskRtmpInText)
    .replace(SECRET_QUERY, `$1${MASK}`);
}

/**
 * Event data: JSON is masked value by value (so that escaped slashes, `rtmp:\/\/host\/app\/key`, hide nothing) and
 * stored re-serialised; anything else as free text.
 */
export function maskData(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return maskText(text);
  }
  if (typeof json !== 'object' || json === null) return maskText(text);
  const masked = JSON.stringify(json, (_key, value: unknown) => (typeof value === 'string' ? maskText(value) : value));
  return masked === JSON.stringify(json) ? maskText(text) : maskText(masked);
}

/** A path with its last non-empty segment masked when it has at least two (`/<app>/<stream key>`). */
function maskStreamKey(path: string): string {
  const parts = path.split('/');
  const named = parts.flatMap((p, i) => (p ? [i] : []));
  if (named.length < 2) return path;
  parts[named[named.length - 1]!] = MASK;
  return parts.join('/');
}

/** An rtmp URL found in text: its stream key masked (one trailing punctuation mark is taken as the text's). */
function maskRtmpInText(found: string): string {
  const trail = /[.,:;)\]]$/.test(found) ? found.slice(-1) : '';
  const body = found.slice(0, found.length - trail.length);
  const end = body.search(/[?#]/);
  const head = end < 0 ? body : body.slice(0, end);
  const slash = head.indexOf('/', head.indexOf('//') + 2);
  if (slash < 0) return found;
  return `${head.slice(0, slash)}${maskStreamKey(head.slice(slash))}${body.slice(head.length)}${trail}`;
}
