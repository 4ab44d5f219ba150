/**
 * Signed preview links: a short-lived token in the query (`?t=`) that lets hls.js and `<img>` load one preview
 * (HLS, MJPEG, snapshot of one `<feed>/<path>`) without headers or cookies. The token is
 * `v1.<expiry, unix s>.<scope, base64url>.<HMAC-SHA256 of scope and expiry, base64url>`, keyed by a secret kept in
 * the store (links survive a restart until they expire). It is not a session: it cannot be revoked, only expire.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../../store/store.js';

/** What verify() says about a token: `invalid` = forged, malformed or signed by another key. */
export type PreviewTokenVerdict = 'ok' | 'invalid' | 'expired' | 'wrong-scope';

const SECRET_NAME = 'preview-link-key';
const FORMAT = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{1,700})\.([A-Za-z0-9_-]{43})$/;

/** Mints and checks preview tokens. start() loads (or creates) the signing key. */
export class PreviewTokens {
  private key: Buffer | null = null;

  constructor(private readonly store: Pick<Store, 'secrets'>) {}

  /** Loads the key from the store, creating it on first start. */
  start(): void {
    const { value } = this.store.secrets.getOrCreate(SECRET_NAME, () => randomBytes(32).toString('base64url'));
    this.key = Buffer.from(value, 'base64url');
  }

  /** A token for `scope` (`f2/cam1`) valid for `ttlS` seconds from `nowMs`. */
  mint(scope: string, ttlS: number, nowMs = Date.now()): { token: string; expiresAt: string } {
    const exp = Math.floor(nowMs / 1000) + ttlS;
    const encoded = Buffer.from(scope, 'utf8').toString('base64url');
    return {
      token: `v1.${exp}.${encoded}.${this.mac(scope, exp)}`,
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /** Checks `token` for a request of `scope`; the signature is compared in constant time. */
  verify(token: string, scope: string, nowMs = Date.now()): PreviewTokenVerdict {
    const m = FORMAT.exec(token);
    if (!m) return 'invalid';
    const exp = Number(m[1]);
    const signed = Buffer.from(m[2]!, 'base64url').toString('utf8');
    const mac = Buffer.from(m[3]!);
    const want = Buffer.from(this.mac(signed, exp));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return 'invalid';
    if (exp * 1000 <= nowMs) return 'expired';
    return signed === scope ? 'ok' : 'wrong-scope';
  }

  private mac(scope: string, exp: number): string {
    if (!this.key) throw new Error('preview tokens are not started');
    return createHmac('sha256', this.key).update(`cupola-preview\n${scope}\n${exp}`).digest('base64url');
  }
}
