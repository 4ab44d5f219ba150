/** Repository of `stream_config`: the relay's streams. The URLs here carry their credentials: never list them raw. */
import { prepared, type Db } from '../database.js';

/** A stream_config row as stored. */
export interface RelayStreamRow {
  id: string;
  name: string;
  rtsp_url: string;
  rtmp_url: string;
  preset: 'auto' | 'copy' | 'transcode';
  ffmpeg_params: string | null;
  auto_restart: number;
  enabled: number;
  status: string;
  last_update_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Fields a caller may set. */
export type RelayStreamWrite = Omit<RelayStreamRow, 'created_at' | 'updated_at'>;

const COLUMNS = [
  'id',
  'name',
  'rtsp_url',
  'rtmp_url',
  'preset',
  'ffmpeg_params',
  'auto_restart',
  'enabled',
  'status',
  'last_update_at',
] as const;

/** CRUD on stream_config. */
export class RelayStreamsRepo {
  constructor(private readonly db: Db) {}

  /** Every stream, by id. */
  list(): RelayStreamRow[] {
    return prepared(this.db, 'SELECT * FROM stream_config ORDER BY id').all() as RelayStreamRow[];
  }

  /** One stream, or undefined. */
  get(id: string): RelayStreamRow | undefined {
    return prepared(this.db, 'SELECT * FROM stream_config WHERE id = ?').get(id) as RelayStreamRow | undefined;
  }

  /** Inserts a stream; throws on a duplicate id. */
  insert(row: RelayStreamWrite): void {
    const now = new Date().toISOString();
    const marks = COLUMNS.map(() => '?').join(', ');
    prepared(
      this.db,
      `INSERT INTO stream_config (${COLUMNS.join(', ')}, created_at, updated_at) VALUES (${marks}, ?, ?)`,
    ).run(...COLUMNS.map((c) => row[c]), now, now);
  }

  /** Replaces every writable field of an existing stream; false when there is none. */
  update(row: RelayStreamWrite): boolean {
    const cols = COLUMNS.filter((c) => c !== 'id');
    const sets = cols.map((c) => `${c} = ?`).join(', ');
    const run = prepared(this.db, `UPDATE stream_config SET ${sets}, updated_at = ? WHERE id = ?`).run(
      ...cols.map((c) => row[c]),
      new Date().toISOString(),
      row.id,
    );
    return run.changes === 1;
  }

  /** Records the last known state (informational: `enabled` is what decides whether a job runs). */
  setStatus(id: string, status: string): void {
    prepared(this.db, 'UPDATE stream_config SET status = ? WHERE id = ?').run(status, id);
  }

  /** Deletes a stream; false when there is none. */
  delete(id: string): boolean {
    return prepared(this.db, 'DELETE FROM stream_config WHERE id = ?').run(id).changes === 1;
  }
}
