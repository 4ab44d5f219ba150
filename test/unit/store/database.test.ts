import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, openDatabase, StoreError } from '../../../app/store/database.js';
import { LATEST_VERSION, MIGRATIONS } from '../../../app/store/migrations.js';
import { Store } from '../../../app/store/store.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function schemaOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .all() as Array<{ sql: string }>
    ).map((r) => r.sql.replace(/\s+/g, ' '));
  } finally {
    db.close();
  }
}

function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StoreError, `expected StoreError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a StoreError');
}

test('migrations run from empty to the latest version, in WAL mode', (t) => {
  const file = join(tempDir(t), 'a.db');
  const db = openDatabase(file);
  assert.equal(db.pragma('user_version', { simple: true }), LATEST_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  const again = openDatabase(file);
  assert.deepEqual(migrate(again), { from: LATEST_VERSION, to: LATEST_VERSION });
  again.close();
});

test('migrations run up from each earlier version and keep the data', (t) => {
  const dir = tempDir(t);
  const fresh = join(dir, 'fresh.db');
  openDatabase(fresh).close();
  const expected = schemaOf(fresh);
  for (let k = 1; k < MIGRATIONS.length; k++) {
    const file = join(dir, `from-${k}.db`);
    const old = openDatabase(file, { migrations: MIGRATIONS.slice(0, k) });
    assert.equal(old.pragma('user_version', { simple: true }), MIGRATIONS[k - 1]!.version);
    old.prepare("INSERT INTO secrets (name, value, created_at) VALUES ('probe', 'kept', 'now')").run();
    old.close();
    const db = openDatabase(file);
    assert.equal(db.pragma('user_version', { simple: true }), LATEST_VERSION);
    assert.equal(
      (db.prepare("SELECT value FROM secrets WHERE name = 'probe'").get() as { value: string }).value,
      'kept',
    );
    db.close();
    assert.deepEqual(schemaOf(file), expected, `schema after upgrading from version ${k}`);
  }
});

test('a failing migration rolls back every step of the run', (t) => {
  const file = join(tempDir(t), 'b.db');
  const broken = [
    ...MIGRATIONS,
    { version: 99, name: 'broken', sql: 'CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);' },
  ];
  assert.throws(() => openDatabase(file, { migrations: broken }), StoreError);
  const db = new Database(file);
  assert.equal(db.pragma('user_version', { simple: true }), 0, 'nothing applied');
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('half', 'secrets')").get() as {
    n: number;
  };
  assert.equal(tables.n, 0, 'no table of the failed run is left');
  db.close();
});

test('Store.transaction writes all or nothing', (t) => {
  const store = new Store(tempDir(t));
  store.start();
  t.after(() => store.stop());
  assert.throws(() =>
    store.transaction(() => {
      store.apiTokens.insert({ id: 'aaaaaaaaaaaa', name: 'x', prefix: 'cpt_aaaa', hash: 'h1', rtspHa1: 'x' });
      store.audit.add({ actor: 'admin', action: 'token-created', target: 'aaaaaaaaaaaa' });
      throw new Error('fail after two writes');
    }),
  );
  assert.equal(store.apiTokens.list().length, 0);
  assert.equal(store.audit.recent().length, 0);
});

test('a database held exclusively by another connection gives a clear error', (t) => {
  const file = join(tempDir(t), 'c.db');
  openDatabase(file).close();
  const holder = new Database(file);
  t.after(() => holder.close());
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.prepare("INSERT INTO secrets (name, value, created_at) VALUES ('x', 'y', 'z')").run();
  const err = storeError(() => openDatabase(file, { busyTimeoutMs: 100 }));
  assert.equal(err.code, 'locked');
  assert.match(err.message, /locked by another process/);
});

test('a pending migration blocked by another writer gives a clear error and applies nothing', (t) => {
  const file = join(tempDir(t), 'c2.db');
  openDatabase(file, { migrations: MIGRATIONS.slice(0, 1) }).close();
  const holder = new Database(file);
  t.after(() => holder.close());
  holder.prepare('BEGIN IMMEDIATE').run();
  assert.equal(storeError(() => openDatabase(file, { busyTimeoutMs: 100 })).code, 'locked');
  holder.prepare('ROLLBACK').run();
  assert.equal(holder.pragma('user_version', { simple: true }), MIGRATIONS[0]!.version);
});

test('a corrupt database gives a clear error and is left as it was', (t) => {
  const file = join(tempDir(t), 'd.db');
  const garbage = Buffer.alloc(8192, 0x5a);
  writeFileSync(file, garbage);
  const err = storeError(() => openDatabase(file));
  assert.equal(err.code, 'corrupt');
  assert.match(err.message, /corrupt/);
  assert.deepEqual(readFileSync(file), garbage);
});

test('a database from a newer Cupola is refused, not downgraded', (t) => {
  const file = join(tempDir(t), 'e.db');
  const db = new Database(file);
  db.pragma('user_version = 999');
  db.close();
  assert.equal(storeError(() => openDatabase(file)).code, 'too-new');
});

test('a read-only database gives a clear error', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'f.db');
  openDatabase(file).close();
  try {
    // Root ignores permission bits, so make the files immutable instead.
    execFileSync('chattr', ['+i', file, dir], { stdio: 'ignore' });
  } catch {
    t.skip('chattr +i is not supported on this file system');
    return;
  }
  try {
    const err = storeError(() => openDatabase(file));
    assert.equal(err.code, 'read-only', err.message);
    assert.match(err.message, /cannot be written/);
  } finally {
    execFileSync('chattr', ['-i', file, dir], { stdio: 'ignore' });
  }
});
