/** Opens the SQLite database (WAL), runs migrations in one transaction, and turns SQLite failures into clear errors. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations.js';

/** The better-sqlite3 handle type. */
export type Db = Database.Database;

/** A start-up failure of the store: the CLI prints it and exits with code 3 (no crash loop under systemd). */
export class StoreError extends Error {
  constructor(
    readonly code: 'locked' | 'read-only' | 'corrupt' | 'too-new' | 'io',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Options for openDatabase. */
export interface OpenOptions {
  /** Migrations to apply (tests pass a prefix to build older schemas). */
  migrations?: readonly Migration[];
  /** How long to wait for another process's lock before failing. */
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) and migrates the database at `file`. Throws StoreError with a plain explanation. */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  let db: Db | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: opts.busyTimeoutMs ?? 2000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new StoreError('corrupt', `database ${file} failed its integrity check: ${String(check)}`);
    migrate(db, opts.migrations ?? MIGRATIONS);
    return db;
  } catch (err) {
    db?.close();
    throw explain(err, file);
  }
}

/** Applies every migration newer than the database's user_version, all in one transaction. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (from > LATEST_VERSION && migrations === MIGRATIONS) {
    throw new StoreError(
      'too-new',
      `database schema version ${from} is newer than this Cupola (${LATEST_VERSION}); upgrade Cupola`,
    );
  }
  const pending = migrations.filter((m) => m.version > from);
  if (pending.length === 0) return { from, to: from };
  db.transaction(() => {
    for (const m of pending) db.exec(m.sql);
    db.pragma(`user_version = ${latest}`);
  }).immediate();
  return { from, to: latest };
}

function explain(err: unknown, file: string): Error {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = (err as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'locked',
      `database ${file} is locked by another process (is another Cupola using this data dir?)`,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS') {
    return new StoreError(
      'read-only',
      `database ${file} cannot be written (${code}): check the data dir's permissions and free space`,
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      'corrupt',
      `database ${file} is corrupt (${code}); move it aside to start fresh, or restore a backup`,
    );
  }
  return new StoreError('io', `database ${file} could not be opened: ${msg}`);
}

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();

/** The prepared statement for `sql` on `db`, compiled once: hot paths (token checks) must not re-parse SQL. */
export function prepared(db: Db, sql: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}
