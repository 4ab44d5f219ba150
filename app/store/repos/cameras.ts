/** Repository of `cameras`: the slave's camera registry, with publish keys as hashes and pull credentials never listed. */
import { prepared, type Db } from '../database.js';

/** A camera row as stored. */
export interface CameraRow {
  id: string;
  name: string;
  site: string;
  enabled: number;
  source_kind: 'rtmp-push' | 'rtsp-pull';
  source_url: string | null;
  source_user: string | null;
  source_password: string | null;
  key_hash: string | null;
  key_rotated_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Fields a caller may set. */
export type CameraWrite = Omit<CameraRow, 'created_at' | 'updated_at'>;

const COLUMNS = [
  'id',
  'name',
  'site',
  'enabled',
  'source_kind',
  'source_url',
  'source_user',
  'source_password',
  'key_hash',
  'key_rotated_at',
] as const;

/** CRUD on cameras. */
export class CamerasRepo {
  constructor(private readonly db: Db) {}

  /** Every camera, by id. */
  list(): CameraRow[] {
    return prepared(this.db, 'SELECT * FROM cameras ORDER BY id').all() as CameraRow[];
  }

  /** One camera, or undefined. */
  get(id: string): CameraRow | undefined {
    return prepared(this.db, 'SELECT * FROM cameras WHERE id = ?').get(id) as CameraRow | undefined;
  }

  /** Inserts a camera; throws on a duplicate id (SQLITE_CONSTRAINT_PRIMARYKEY). */
  insert(row: CameraWrite): void {
    const now = new Date().toISOString();
    prepared(
      this.db,
      `INSERT INTO cameras (${COLUMNS.join(', ')}, created_at, updated_at) VALUES (${COLUMNS.map(() => '?').join(', ')}, ?, ?)`,
    ).run(...COLUMNS.map((c) => row[c]), now, now);
  }

  /** Replaces every writable field of an existing camera; false when there is none. */
  update(row: CameraWrite): boolean {
    const sets = COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = ?`);
    const values = COLUMNS.filter((c) => c !== 'id').map((c) => row[c]);
    return (
      prepared(this.db, `UPDATE cameras SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`).run(
        ...values,
        new Date().toISOString(),
        row.id,
      ).changes === 1
    );
  }

  /** Deletes a camera; false when there is none. */
  delete(id: string): boolean {
    return prepared(this.db, 'DELETE FROM cameras WHERE id = ?').run(id).changes === 1;
  }
}
