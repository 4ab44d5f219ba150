/** Repository of `secrets`: generated keys and the admin password hash, by name. */
import { prepared, type Db } from '../database.js';

/** Reads and writes named secrets. */
export class SecretsRepo {
  constructor(private readonly db: Db) {}

  /** The value of a secret, or undefined. */
  get(name: string): string | undefined {
    const row = prepared(this.db, 'SELECT value FROM secrets WHERE name = ?').get(name) as
      { value: string } | undefined;
    return row?.value;
  }

  /** Inserts or replaces a secret. */
  set(name: string, value: string): void {
    prepared(
      this.db,
      `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    ).run(name, value, new Date().toISOString());
  }

  /** Returns the secret, creating it with `make()` when absent (atomically). */
  getOrCreate(name: string, make: () => string): { value: string; created: boolean } {
    return this.db.transaction(() => {
      const existing = this.get(name);
      if (existing !== undefined) return { value: existing, created: false };
      const value = make();
      this.set(name, value);
      return { value, created: true };
    })();
  }
}
