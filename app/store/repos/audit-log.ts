/** Repository of `audit_log`: who did what to the node's security state, kept for the operator. */
import { prepared, type Db } from '../database.js';

/** One audit entry. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
}

/** Append and read audit entries. */
export class AuditLogRepo {
  constructor(private readonly db: Db) {}

  /** Appends an entry. Never pass secrets in `target`. */
  add(e: { actor: string; action: string; target?: string | null; ip?: string | null }): void {
    prepared(this.db, 'INSERT INTO audit_log (at, actor, action, target, ip) VALUES (?, ?, ?, ?, ?)').run(
      new Date().toISOString(),
      e.actor,
      e.action,
      e.target ?? null,
      e.ip ?? null,
    );
  }

  /** The newest `limit` entries, newest first. */
  recent(limit = 100): AuditEntry[] {
    return prepared(this.db, 'SELECT * FROM audit_log ORDER BY id DESC LIMIT ?').all(limit) as AuditEntry[];
  }
}
