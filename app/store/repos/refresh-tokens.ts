/** Repository of `refresh_tokens`: rotating refresh tokens grouped in families (one family per login). */
import { prepared, type Db } from '../database.js';

/** A stored refresh token (hash only). */
export interface RefreshRow {
  id: string;
  family: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

/** Insert, look up, rotate and revoke refresh tokens. */
export class RefreshTokensRepo {
  constructor(private readonly db: Db) {}

  /** Stores a new refresh token. */
  insert(t: { id: string; family: string; hash: string; expiresAt: string }): void {
    prepared(
      this.db,
      'INSERT INTO refresh_tokens (id, family, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ).run(t.id, t.family, t.hash, new Date().toISOString(), t.expiresAt);
  }

  /** The token with this hash, whatever its state. */
  findByHash(hash: string): RefreshRow | undefined {
    return prepared(
      this.db,
      'SELECT id, family, expires_at, used_at, revoked_at FROM refresh_tokens WHERE hash = ?',
    ).get(hash) as RefreshRow | undefined;
  }

  /** Marks `oldId` used and stores its successor, in one transaction; false if it was used concurrently. */
  rotate(oldId: string, next: { id: string; family: string; hash: string; expiresAt: string }): boolean {
    return this.db.transaction(() => {
      const res = prepared(
        this.db,
        'UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL',
      ).run(new Date().toISOString(), oldId);
      if (res.changes !== 1) return false;
      this.insert(next);
      return true;
    })();
  }

  /** Revokes every token of a family (logout, or reuse of a rotated token: likely theft). */
  revokeFamily(family: string): number {
    return prepared(this.db, 'UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL').run(
      new Date().toISOString(),
      family,
    ).changes;
  }

  /** Deletes tokens that expired more than a day ago. */
  prune(now = new Date()): number {
    const cutoff = new Date(now.getTime() - 86_400_000).toISOString();
    return prepared(this.db, 'DELETE FROM refresh_tokens WHERE expires_at < ?').run(cutoff).changes;
  }
}
