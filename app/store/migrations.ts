/** Numbered schema migrations. Append only: never edit a migration that has shipped. */

/** One step of the schema; `version` is stored in PRAGMA user_version once applied. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'auth',
    sql: `
      CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
      );
      CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY,
        family TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        revoked_at TEXT
      );
      CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
    `,
  },
  {
    version: 2,
    name: 'audit-log',
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        ip TEXT
      );
      CREATE INDEX audit_log_at ON audit_log (at);
    `,
  },
  {
    version: 3,
    name: 'cameras',
    sql: `
      CREATE TABLE cameras (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        site TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        source_kind TEXT NOT NULL CHECK (source_kind IN ('rtmp-push', 'rtsp-pull')),
        source_url TEXT,
        source_user TEXT,
        source_password TEXT,
        key_hash TEXT,
        key_rotated_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK (source_kind <> 'rtsp-pull' OR source_url IS NOT NULL),
        CHECK (source_kind <> 'rtmp-push' OR key_hash IS NOT NULL)
      );
    `,
  },
  {
    version: 4,
    name: 'api-token-rtsp-digest',
    // RTSP Digest never sends the password, so a token usable as an RTSP password needs HA1 = MD5(id:cupola:secret).
    sql: `ALTER TABLE api_tokens ADD COLUMN rtsp_ha1 TEXT;`,
  },
  {
    version: 5,
    name: 'relay',
    // The dynamic stream controller (app/relay), after the seed's tables. Only stream_config holds URL credentials;
    // the other tables store URLs and event data masked.
    sql: `
      CREATE TABLE stream_config (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        rtsp_url TEXT NOT NULL,
        rtmp_url TEXT NOT NULL,
        preset TEXT NOT NULL DEFAULT 'auto' CHECK (preset IN ('auto', 'copy', 'transcode')),
        ffmpeg_params TEXT,
        auto_restart INTEGER NOT NULL DEFAULT 1,
        enabled INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'stopped',
        last_update_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE stream_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
        message TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX stream_logs_stream ON stream_logs (stream_id, created_at);
      CREATE INDEX stream_logs_created ON stream_logs (created_at);
      CREATE TABLE url_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        old_rtsp_url TEXT,
        new_rtsp_url TEXT,
        old_rtmp_url TEXT,
        new_rtmp_url TEXT,
        change_source TEXT NOT NULL CHECK (change_source IN ('sse', 'api', 'manual')),
        event_id TEXT,
        switched INTEGER NOT NULL DEFAULT 0,
        gap_ms INTEGER,
        created_at TEXT NOT NULL
      );
      CREATE INDEX url_history_stream ON url_history (stream_id, created_at);
      CREATE INDEX url_history_created ON url_history (created_at);
      CREATE TABLE sse_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT,
        event_type TEXT NOT NULL,
        data TEXT NOT NULL,
        received_at TEXT NOT NULL,
        processed INTEGER NOT NULL DEFAULT 0,
        outcome TEXT,
        error TEXT
      );
      CREATE INDEX sse_events_event_id ON sse_events (event_id);
      CREATE INDEX sse_events_received ON sse_events (received_at);
    `,
  },
  {
    version: 6,
    name: 'relay-sse-event-ids',
    // Ids of processed SSE events, kept apart from sse_events so that pruning the events (relay.retention.eventRows)
    // does not let a replayed id through. Bounded separately (app/store/repos/relay-log.ts).
    sql: `
      CREATE TABLE sse_event_ids (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        processed_at TEXT NOT NULL
      );
      INSERT OR IGNORE INTO sse_event_ids (event_id, processed_at)
        SELECT event_id, received_at FROM sse_events
        WHERE event_id IS NOT NULL AND processed = 1 AND length(event_id) <= 200 ORDER BY id;
    `,
  },
];

/** The schema version a fully migrated database has. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
