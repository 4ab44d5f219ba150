/**
 * RTSP authentication: Basic and Digest (RFC 2617 / RFC 7616 with MD5, realm "cupola") challenges, stateless nonces
 * with an expiry, and the question to the caller's `authorize` policy.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RtspRequest } from './request-parser.js';
import type { RtspResponse } from './response.js';
import type { Authorize, AuthorizeRequest, RtspAction } from './types.js';

/** The realm of every challenge. */
export const REALM = 'cupola';

/** Credentials as sent by a client. */
export type Credentials =
  { scheme: 'basic'; user: string; password: string } | { scheme: 'digest'; user: string; params: Map<string, string> };

/** Parses an Authorization header; null when absent, unknown or malformed. */
export function parseAuthorization(header: string | undefined): Credentials | null {
  if (!header) return null;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (scheme === 'digest') {
    const params = parseParams(rest);
    const user = params.get('username');
    if (!user || !params.get('nonce') || !params.get('response') || !params.has('uri')) return null;
    return { scheme: 'digest', user, params };
  }
  return null;
}

/** `k=v, k="quoted, \"value\""` → map (lower-case keys). Stops at the first malformed pair. */
export function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
    if (m[0].length === 0) break;
  }
  return out;
}

/** Issues and checks stateless nonces: `<expiry>-<hmac>`, so no per-client state is kept for unauthenticated peers. */
export class NonceIssuer {
  private readonly secret = randomBytes(32);

  constructor(private readonly ttlMs: number) {}

  /** A fresh nonce. */
  issue(now = Date.now()): string {
    const expiry = (now + this.ttlMs).toString(36);
    return `${expiry}-${this.mac(expiry)}`;
  }

  /** `valid`, `stale` (ours but expired: the client may retry without asking the user) or `invalid`. */
  check(nonce: string, now = Date.now()): 'valid' | 'stale' | 'invalid' {
    const m = /^([0-9a-z]{1,12})-([0-9a-f]{32})$/.exec(nonce);
    if (!m || !safeEqual(m[2]!, this.mac(m[1]!))) return 'invalid';
    return parseInt(m[1]!, 36) > now ? 'valid' : 'stale';
  }

  private mac(expiry: string): string {
    return createHmac('sha256', this.secret).update(expiry).digest('hex').slice(0, 32);
  }
}

/** The 401 response: Digest first (the stronger scheme; clients pick the best they know anyway), then Basic. */
export function challenge(nonces: NonceIssuer, stale = false): RtspResponse {
  const digest = `Digest realm="${REALM}", nonce="${nonces.issue()}", algorithm=MD5${stale ? ', stale=TRUE' : ''}`;
  return { status: 401, headers: { 'WWW-Authenticate': [digest, `Basic realm="${REALM}"`] } };
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** HA1 of RFC 2617 for our realm: what a server may store instead of a password to check Digest answers. */
export function digestHa1(user: string, secret: string): string {
  return md5(`${user}:${REALM}:${secret}`);
}

/** The Digest response a client knowing `secret` would have sent (qop=auth or none). */
export function digestResponse(params: Map<string, string>, method: string, secret: string): string {
  return digestResponseFromHa1(params, method, digestHa1(params.get('username') ?? '', secret));
}

/** The Digest response for a stored HA1 (the password itself is not needed). */
export function digestResponseFromHa1(params: Map<string, string>, method: string, ha1: string): string {
  const ha2 = md5(`${method}:${params.get('uri')}`);
  const nonce = params.get('nonce') ?? '';
  const qop = params.get('qop');
  if (qop === 'auth') return md5(`${ha1}:${nonce}:${params.get('nc')}:${params.get('cnonce')}:${qop}:${ha2}`);
  return md5(`${ha1}:${nonce}:${ha2}`);
}

/** The outcome of one authentication attempt. */
export type AuthOutcome =
  | { kind: 'ok' }
  | { kind: 'challenge'; response: RtspResponse; failed: boolean; user?: string }
  | { kind: 'forbidden'; user?: string };

/** Asks the caller's policy about one request; Digest nonces are checked before the policy sees anything. */
export async function authenticate(
  authorize: Authorize,
  nonces: NonceIssuer,
  timeoutMs: number,
  req: RtspRequest,
  target: { path: string; action: RtspAction; remote: string },
): Promise<AuthOutcome> {
  const creds = parseAuthorization(req.headers.get('authorization'));
  const ask: AuthorizeRequest = { ...target, checkPassword: () => false, checkHa1: () => false };
  if (creds?.scheme === 'basic') {
    Object.assign(ask, { user: creds.user, password: creds.password, scheme: 'basic' });
    ask.checkPassword = (secret) => safeEqual(creds.password, secret);
    ask.checkHa1 = (ha1) => safeEqual(digestHa1(creds.user, creds.password), ha1.toLowerCase());
  } else if (creds?.scheme === 'digest') {
    const nonce = nonces.check(creds.params.get('nonce')!);
    const realmOk = creds.params.get('realm') === REALM;
    const algorithm = (creds.params.get('algorithm') ?? 'MD5').toUpperCase();
    if (nonce === 'stale') return { kind: 'challenge', response: challenge(nonces, true), failed: false };
    if (nonce === 'invalid' || !realmOk || algorithm !== 'MD5') {
      return { kind: 'challenge', response: challenge(nonces), failed: true, user: creds.user };
    }
    Object.assign(ask, { user: creds.user, scheme: 'digest' });
    const sent = creds.params.get('response')!.toLowerCase();
    ask.checkPassword = (secret) => safeEqual(sent, digestResponse(creds.params, req.method, secret));
    ask.checkHa1 = (ha1) => safeEqual(sent, digestResponseFromHa1(creds.params, req.method, ha1.toLowerCase()));
  }
  const verdict = await withTimeout(
    Promise.resolve().then(() => authorize(ask)),
    timeoutMs,
  );
  if (verdict === 'ok') return { kind: 'ok' };
  if (verdict === 'forbidden') return creds ? { kind: 'forbidden', user: creds.user } : { kind: 'forbidden' };
  // A client without credentials is only being asked for them; that is not a failed attempt.
  if (!creds) return { kind: 'challenge', response: challenge(nonces), failed: false };
  return { kind: 'challenge', response: challenge(nonces), failed: true, user: creds.user };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`authorize did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
