/** Admin login, JWT access tokens, rotating refresh tokens and long-lived API tokens. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { ApiTokenInfo, TokenPair } from '../../defs/api.js';
import type { Config } from '../../config/schema.js';
import { prepared } from '../../store/database.js';
import type { Store } from '../../store/store.js';
import { digestHa1 } from '../../media/rtsp/auth.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';

/** Who a request is authenticated as. */
export type Principal = { kind: 'admin'; family: string } | { kind: 'api-token'; tokenId: string; name: string };

/** Why a refresh was refused. */
export type RefreshFailure = 'invalid' | 'expired' | 'reused' | 'revoked';

/** SHA-256 in base64url, as API and refresh tokens are stored. */
export const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
const API_PREFIX = 'cpt_';
const REFRESH_PREFIX = 'cpr_';

/** Authentication for the node. start() makes sure a signing key and an admin password exist. */
export class AuthService {
  private key: Uint8Array | null = null;

  constructor(
    private readonly store: Store,
    private readonly options: Config['auth'],
  ) {}

  /** Prepares keys; returns the admin password when one was generated (to be shown once, never logged). */
  async start(): Promise<{ generatedPassword: string | null }> {
    const { value } = this.store.secrets.getOrCreate('jwt-key', () => randomBytes(32).toString('base64url'));
    this.key = Buffer.from(value, 'base64url');
    this.store.refreshTokens.prune();
    const stored = this.store.secrets.get('admin-password');
    if (this.options.adminPassword) {
      if (!stored || !(await verifyPassword(this.options.adminPassword, stored))) {
        this.store.secrets.set('admin-password', await hashPassword(this.options.adminPassword));
      }
      return { generatedPassword: null };
    }
    if (stored) return { generatedPassword: null };
    const password = generatePassword();
    this.store.secrets.set('admin-password', await hashPassword(password));
    return { generatedPassword: password };
  }

  /** Checks the admin password; on success opens a new token family. */
  async login(password: string): Promise<TokenPair | null> {
    const stored = this.store.secrets.get('admin-password');
    if (!stored || !(await verifyPassword(password, stored))) return null;
    return this.issue(randomUUID(), null);
  }

  /** Sets a new admin password and revokes every session. */
  async changePassword(password: string): Promise<void> {
    const hash = await hashPassword(password);
    this.store.transaction(() => {
      this.store.secrets.set('admin-password', hash);
      prepared(this.store.handle, 'UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL').run(
        new Date().toISOString(),
      );
    });
  }

  /** Exchanges a refresh token for a new pair. Reusing a rotated token revokes its whole family (likely theft). */
  async refresh(token: string): Promise<TokenPair | RefreshFailure> {
    if (!token.startsWith(REFRESH_PREFIX)) return 'invalid';
    const row = this.store.refreshTokens.findByHash(sha256(token));
    if (!row) return 'invalid';
    if (row.revoked_at) return 'revoked';
    if (row.used_at) {
      this.store.refreshTokens.revokeFamily(row.family);
      return 'reused';
    }
    if (Date.parse(row.expires_at) <= Date.now()) return 'expired';
    const pair = await this.issue(row.family, row.id);
    if (pair) return pair;
    // Lost a race with another refresh of the same token: that is reuse too.
    this.store.refreshTokens.revokeFamily(row.family);
    return 'reused';
  }

  /** Revokes the family of a refresh token (and with it the access tokens of that login). */
  logout(refreshToken: string | undefined, family: string | undefined): void {
    const fam =
      family ?? (refreshToken ? this.store.refreshTokens.findByHash(sha256(refreshToken))?.family : undefined);
    if (fam) this.store.refreshTokens.revokeFamily(fam);
  }

  /** Verifies a bearer credential: an access JWT or an API token. */
  async authenticate(credential: string): Promise<Principal | null> {
    if (credential.startsWith(API_PREFIX)) {
      const info = this.store.apiTokens.findActiveByHash(sha256(credential));
      if (!info) return null;
      this.store.apiTokens.touch(info.id);
      return { kind: 'api-token', tokenId: info.id, name: info.name };
    }
    try {
      const { payload } = await jwtVerify(credential, this.signingKey, { algorithms: ['HS256'], issuer: 'cupola' });
      const family = typeof payload.fam === 'string' ? payload.fam : '';
      if (!family || this.familyRevoked(family)) return null;
      return { kind: 'admin', family };
    } catch {
      return null;
    }
  }

  /** Creates an API token; the secret is returned once and only its hash is stored. */
  createApiToken(name: string): { token: ApiTokenInfo; secret: string } {
    const id = randomBytes(6).toString('hex');
    const secret = `${API_PREFIX}${id}_${randomBytes(24).toString('base64url')}`;
    const token = this.store.apiTokens.insert({
      id,
      name,
      prefix: secret.slice(0, API_PREFIX.length + 12),
      hash: sha256(secret),
      rtspHa1: digestHa1(id, secret),
    });
    return { token, secret };
  }

  private familyRevoked(family: string): boolean {
    const row = prepared(
      this.store.handle,
      'SELECT 1 FROM refresh_tokens WHERE family = ? AND revoked_at IS NOT NULL LIMIT 1',
    ).get(family);
    return row !== undefined;
  }

  private get signingKey(): Uint8Array {
    if (!this.key) throw new Error('auth service is not started');
    return this.key;
  }

  private async issue(family: string, rotatedFrom: string | null): Promise<TokenPair | null> {
    const now = Date.now();
    const accessExp = Math.floor(now / 1000) + this.options.accessTokenTtlS;
    const accessToken = await new SignJWT({ fam: family })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('admin')
      .setIssuer('cupola')
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(accessExp)
      .sign(this.signingKey);
    const id = randomUUID();
    const refreshToken = `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`;
    const refreshExpiresAt = new Date(now + this.options.refreshTokenTtlS * 1000).toISOString();
    const next = { id, family, hash: sha256(refreshToken), expiresAt: refreshExpiresAt };
    if (rotatedFrom) {
      if (!this.store.refreshTokens.rotate(rotatedFrom, next)) return null;
    } else {
      this.store.refreshTokens.insert(next);
    }
    return { accessToken, accessExpiresAt: new Date(accessExp * 1000).toISOString(), refreshToken, refreshExpiresAt };
  }
}
