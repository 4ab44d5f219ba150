/**
 * Checks and masks the URLs of relay streams. A URL reaches ffmpeg as one argv element (never a shell), but the
 * checks still refuse shell metacharacters, whitespace and anything but the stream's own protocols, so that what is
 * stored, logged and shown is plainly a camera or server address.
 */

import { MASK, maskUrl, RTMP_SCHEME, SECRET_NAME } from '../log/mask.js';

/** Which end of a job a URL is for. */
export type UrlKind = 'rtsp_url' | 'rtmp_url';

const SCHEMES: Record<UrlKind, readonly string[]> = { rtsp_url: ['rtsp:', 'rtsps:'], rtmp_url: ['rtmp:', 'rtmps:'] };
const MAX_URL_CHARS = 2048;
/** Refused anywhere in a URL: they have no business in a stream address and are how shell injection starts. */
const SHELL_CHARS = /[`$;|<>\\"'{}]/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;

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

/** A URL with its masked parts restored, or the reasons why they cannot be (then `url` is the input). */
export interface Unmasked {
  url: string;
  errors: string[];
}

/**
 * A URL as a client sends back what it was shown: every `***` (password, secret query value, rtmp stream key) is
 * replaced by the stored URL's value, provided the stored URL is on the same server (scheme, host, port) and has that
 * secret in the same place (same user; same parameter; same path up to the key). A `***` that cannot be restored is
 * an error: a mask is never stored over a secret, nor a secret sent to another server.
 */
export function unmaskUrl(kind: UrlKind, incoming: string, stored: string | null | undefined): Unmasked {
  if (!incoming.includes(MASK)) return { url: incoming, errors: [] };
  if (stored && incoming === maskUrl(stored)) return { url: stored, errors: [] };
  if (!URL.canParse(incoming)) return { url: incoming, errors: [] }; // checkUrl refuses it
  const u = new URL(incoming);
  const s = stored && URL.canParse(stored) ? new URL(stored) : null;
  const errors: string[] = [];
  const cannot = (what: string, why: string) =>
    errors.push(`${kind}: the ${what} is masked (${MASK}) and ${why}: give the real value`);
  const server = !s
    ? 'there is no stored URL to take it from'
    : s.protocol !== u.protocol || s.host.toLowerCase() !== u.host.toLowerCase()
      ? 'the stored URL is on another server'
      : null;
  if (u.password === MASK) {
    if (server) cannot('password', server);
    else if (s!.username !== u.username || !s!.password) cannot('password', 'the stored URL has another user');
    else u.password = s!.password;
  }
  if (RTMP_SCHEME.test(u.protocol)) {
    if (u.pathname.split('/').filter(Boolean).at(-1) === MASK) {
      const path = s && sameAppPath(u.pathname, s.pathname) ? s.pathname : null;
      if (server) cannot('stream key', server);
      else if (path === null) cannot('stream key', 'the stored URL has another app path');
      else u.pathname = path;
    }
  }
  if (u.search.includes(MASK)) {
    const storedQuery = new Map((s?.search.slice(1).split('&') ?? []).map((p) => [p.split('=')[0]!, p] as const));
    const query = u.search
      .slice(1)
      .split('&')
      .map((pair) => {
        const name = pair.split('=')[0]!;
        if (pair !== `${name}=${MASK}` || !SECRET_NAME.test(name)) return pair;
        const was = storedQuery.get(name);
        if (server) cannot(`value of "${name}"`, server);
        else if (was === undefined) cannot(`value of "${name}"`, `the stored URL has no "${name}"`);
        else return was;
        return pair;
      });
    u.search = `?${query.join('&')}`;
  }
  return errors.length ? { url: incoming, errors } : { url: u.toString(), errors: [] };
}

/** True when two rtmp paths have the same segments up to the stream key (`/<app>/<key>`). */
function sameAppPath(a: string, b: string): boolean {
  const named = (p: string) => p.split('/').filter(Boolean);
  const [x, y] = [named(a), named(b)];
  return x.length >= 2 && x.length === y.length && x.slice(0, -1).join('/') === y.slice(0, -1).join('/');
}
