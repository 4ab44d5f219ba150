/**
 * Repositories of the relay's append-only tables, `stream_logs`, `url_history` and `sse_events`, each bounded by a
 * row limit (oldest rows deleted first) so that a chatty control server cannot fill the disk. Callers store URLs
 * and event data already masked.
 */
import { createHash } from 'node:crypto';
import { prepared, type Db } from '../database.js';

/** Rows are pruned every this many inserts, so a table holds at most its limit plus this. */
const PRUNE_EVERY = 50;
/**
 * Processed event ids kept (sse_event_ids) at the least, and never fewer than the events kept: a control server
 * would have to send this many other ids before replaying one for the replay to be applied again.
 */
export const EVENT_IDS_KEPT = 100_000;
/** Longer event ids are kept as their SHA-256 (an id is bounded only by relay.sse.maxEventBytes). */
const ID_CHARS = 200;

/** A stream_logs row. */
export interface StreamLogRow {
  id: number;
  stream_id: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  created_at: string;
}

/** A url_history row. */
export interface UrlHistoryRow {
  id: number;
  stream_id: string;
  old_rtsp_url: string | null;
  new_rtsp_url: string | null;
  old_rtmp_url: string | null;
  new_rtmp_url: string | null;
  change_source: 'sse' | 'api' | 'manual';
  event_id: string | null;
  switched: number;
  gap_ms: number | null;
  created_at: string;
}

/** An sse_events row. */
export interface SseEventRow {
  id: number;
  event_id: string | null;
  event_type: string;
  data: string;
  received_at: string;
  processed: number;
  outcome: string | null;
  error: string | null;
}

/** Deletes all but the newest `keep` rows of `table` every PRUNE_EVERY calls. */
class Pruner {
  private count = 0;
  constructor(
    private readonly db: Db,
    private readonly table: string,
  ) {}

  tick(keep: number): void {
    if (++this.count % PRUNE_EVERY !== 0) return;
    const sql = `DELETE FROM ${this.table} WHERE id <= (SELECT id FROM ${this.table} ORDER BY id DESC LIMIT 1 OFFSET ?)`;
    prepared(this.db, sql).run(keep);
  }
}

/** stream_logs: what happened to each relay stream. */
export class StreamLogsRepo {
  private readonly pruner: Pruner;
  constructor(private readonly db: Db) {
    this.pruner = new Pruner(db, 'stream_logs');
  }

  /** Appends a line; keeps at most about `keep` rows. */
  add(streamId: string, level: StreamLogRow['level'], message: string, keep: number): void {
    prepared(this.db, 'INSERT INTO stream_logs (stream_id, level, message, created_at) VALUES (?, ?, ?, ?)').run(
      streamId,
      level,
      message,
      new Date().toISOString(),
    );
    this.pruner.tick(keep);
  }

  /** The newest `limit` lines of a stream (or of all), newest first. */
  recent(streamId: string | null, limit: number): StreamLogRow[] {
    if (streamId === null)
      return prepared(this.db, 'SELECT * FROM stream_logs ORDER BY id DESC LIMIT ?').all(limit) as StreamLogRow[];
    const sql = 'SELECT * FROM stream_logs WHERE stream_id = ? ORDER BY id DESC LIMIT ?';
    return prepared(this.db, sql).all(streamId, limit) as StreamLogRow[];
  }
}

/** url_history: every change of a stream's URLs, with who made it. */
export class UrlHistoryRepo {
  private readonly pruner: Pruner;
  constructor(private readonly db: Db) {
    this.pruner = new Pruner(db, 'url_history');
  }

  /** Appends a change; keeps at most about `keep` rows. */
  add(row: Omit<UrlHistoryRow, 'id' | 'created_at'>, keep: number): void {
    prepared(
      this.db,
      `INSERT INTO url_history (stream_id, old_rtsp_url, new_rtsp_url, old_rtmp_url, new_rtmp_url, change_source,
        event_id, switched, gap_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.stream_id,
      row.old_rtsp_url,
      row.new_rtsp_url,
      row.old_rtmp_url,
      row.new_rtmp_url,
      row.change_source,
      row.event_id,
      row.switched,
      row.gap_ms,
      new Date().toISOString(),
    );
    this.pruner.tick(keep);
  }

  /** The newest `limit` changes of a stream (or of all), newest first. */
  recent(streamId: string | null, limit: number): UrlHistoryRow[] {
    if (streamId === null)
      return prepared(this.db, 'SELECT * FROM url_history ORDER BY id DESC LIMIT ?').all(limit) as UrlHistoryRow[];
    const sql = 'SELECT * FROM url_history WHERE stream_id = ? ORDER BY id DESC LIMIT ?';
    return prepared(this.db, sql).all(streamId, limit) as UrlHistoryRow[];
  }
}

/**
 * sse_events: every event the SSE client received, and what became of it; and sse_event_ids: the ids of processed
 * events, bounded on their own (EVENT_IDS_KEPT) so that pruning old events does not forget which ids were processed.
 */
export class SseEventsRepo {
  private readonly pruner: Pruner;
  private readonly idPruner: Pruner;
  /** `idsKept`: the least number of processed ids kept (tests use fewer). */
  constructor(
    private readonly db: Db,
    private readonly idsKept = EVENT_IDS_KEPT,
  ) {
    this.pruner = new Pruner(db, 'sse_events');
    this.idPruner = new Pruner(db, 'sse_event_ids');
  }

  /** Stores a received event (unprocessed); returns its row id. */
  add(e: { eventId: string | null; type: string; data: string }, keep: number): number {
    const run = prepared(
      this.db,
      'INSERT INTO sse_events (event_id, event_type, data, received_at, processed) VALUES (?, ?, ?, ?, 0)',
    ).run(e.eventId, e.type, e.data, new Date().toISOString());
    this.pruner.tick(keep);
    return Number(run.lastInsertRowid);
  }

  /**
   * Records what became of an event and, when it has an id, that this id was processed (in one transaction; the
   * id is recorded even when its row was pruned meanwhile). `keep` is relay.retention.eventRows.
   */
  finish(rowId: number, outcome: string, error: string | null, eventId: string | null = null, keep = 0): void {
    this.db.transaction(() => {
      prepared(this.db, 'UPDATE sse_events SET processed = 1, outcome = ?, error = ? WHERE id = ?').run(
        outcome,
        error,
        rowId,
      );
      if (!eventId) return;
      // REPLACE moves an id seen again to the newest end: an id a control server keeps replaying is never pruned.
      const sql = 'INSERT OR REPLACE INTO sse_event_ids (event_id, processed_at) VALUES (?, ?)';
      prepared(this.db, sql).run(idKey(eventId), new Date().toISOString());
    })();
    if (eventId) this.idPruner.tick(Math.max(this.idsKept, keep));
  }

  /** True when an event with this id was processed before (whether or not its sse_events row is still there). */
  processedBefore(eventId: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM sse_event_ids WHERE event_id = ?').get(idKey(eventId)) !== undefined;
  }

  /** The id of the newest stored event that had one (the Last-Event-ID to resume from after a restart). */
  lastEventId(): string | null {
    const sql = 'SELECT event_id FROM sse_events WHERE event_id IS NOT NULL ORDER BY id DESC LIMIT 1';
    const row = prepared(this.db, sql).get() as { event_id: string } | undefined;
    return row?.event_id ?? null;
  }

  /** The newest `limit` events, newest first. */
  recent(limit: number): SseEventRow[] {
    return prepared(this.db, 'SELECT * FROM sse_events ORDER BY id DESC LIMIT ?').all(limit) as SseEventRow[];
  }
}

/** How an event id is kept in sse_event_ids: as it is, or its SHA-256 when it is long. */
function idKey(eventId: string): string {
  if (eventId.length <= ID_CHARS) return eventId;
  return `sha256:${createHash('sha256').update(eventId).digest('hex')}`;
}
