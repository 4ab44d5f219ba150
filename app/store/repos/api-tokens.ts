/** Repository of `api_tokens`: long-lived tokens for peers and scripts, stored as hashes only. */
import type { ApiTokenInfo } from '../../defs/api.js';
import { prepared, type Db } from '../database.js';

interface Row {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const toInfo = (r: Row): ApiTokenInfo => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/** Create, find by hash, list and revoke API tokens. */
export class ApiTokensRepo {
  private readonly touched = new Map<string, number>();

  constructor(private readonly db: Db) {}

  /** Stores a new token's hash. */
  insert(t: { id: string; name: string; prefix: string; hash: string; rtspHa1: string }): ApiTokenInfo {
    const now = new Date().toISOString();
    prepared(
      this.db,
      'INSERT INTO api_tokens (id, name, prefix, hash, rtsp_ha1, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(t.id, t.name, t.prefix, t.hash, t.rtspHa1, now);
    return { id: t.id, name: t.name, prefix: t.prefix, createdAt: now, lastUsedAt: null, revokedAt: null };
  }

  /** The active (not revoked) token with this hash. */
  findActiveByHash(hash: string): ApiTokenInfo | undefined {
    const row = prepared(this.db, 'SELECT * FROM api_tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as
      Row | undefined;
    return row && toInfo(row);
  }

  /** Records use, at most once a minute per token so that a busy peer does not write on every request. */
  touch(id: string): void {
    const now = new Date();
    // Skip the write entirely while this process has recorded a use in the last minute.
    const last = this.touched.get(id);
    if (last !== undefined && now.getTime() - last < 60_000) return;
    this.touched.set(id, now.getTime());
    const cutoff = new Date(now.getTime() - 60_000).toISOString();
    prepared(
      this.db,
      'UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    ).run(now.toISOString(), id, cutoff);
  }

  /** Hashes of every active token, for checking them as RTSP passwords (Basic: hash; Digest: HA1). */
  activeCredentials(): Array<{ id: string; hash: string; ha1: string | null }> {
    return prepared(
      this.db,
      'SELECT id, hash, rtsp_ha1 AS ha1 FROM api_tokens WHERE revoked_at IS NULL',
    ).all() as Array<{
      id: string;
      hash: string;
      ha1: string | null;
    }>;
  }

  /** Every token, newest first. */
  list(): ApiTokenInfo[] {
    return (prepared(this.db, 'SELECT * FROM api_tokens ORDER BY created_at DESC, id').all() as Row[]).map(toInfo);
  }

  /** Marks a token revoked; false when there is no such active token. */
  revoke(id: string): boolean {
    const res = prepared(this.db, 'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(
      new Date().toISOString(),
      id,
    );
    return res.changes === 1;
  }
}
