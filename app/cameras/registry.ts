/** The camera registry: create, change, delete cameras and their publish keys, with every write in one transaction. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Camera } from '../defs/camera.js';
import type { EventBus } from '../events/bus.js';
import type { CameraRow, CameraWrite } from '../store/repos/cameras.js';
import type { Store } from '../store/store.js';

/** What a caller asks for when creating or changing a camera's source. */
export type SourceInput = { kind: 'rtmp-push' } | { kind: 'rtsp-pull'; url: string; user?: string; password?: string };

/** Input of create(). */
export interface CameraInput {
  id: string;
  name: string;
  site: string;
  enabled: boolean;
  source: SourceInput;
}

/** Input of update(): every field optional. */
export type CameraPatch = Partial<Omit<CameraInput, 'id'>>;

/** What the media plane needs to check a publisher: no secret, only the key's hash. */
export interface PublishEntry {
  id: string;
  enabled: boolean;
  kind: CameraRow['source_kind'];
  keyHash: string | null;
}

/** Why a registry call failed, for the API to map onto a status. */
export class CameraError extends Error {
  constructor(
    readonly code: 'exists' | 'not_found' | 'invalid',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** SHA-256 of a publish key, as stored and as the media plane compares it. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Constant-time check of a presented key against a stored hash. */
export function keyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Splits `rtsp://user:pass@host/path` into a URL without credentials and the credentials. */
export function splitCredentials(raw: string): { url: string; user: string | null; password: string | null } {
  const u = new URL(raw);
  const user = u.username ? decodeURIComponent(u.username) : null;
  const password = u.password ? decodeURIComponent(u.password) : null;
  u.username = '';
  u.password = '';
  return { url: u.toString(), user, password };
}

/** The API view of a row: the pull password and the key hash never leave the store. */
export function toCamera(row: CameraRow): Camera {
  return {
    id: row.id,
    name: row.name,
    site: row.site,
    enabled: row.enabled === 1,
    source:
      row.source_kind === 'rtmp-push'
        ? { kind: 'rtmp-push', keyRotatedAt: row.key_rotated_at ?? row.created_at }
        : {
            kind: 'rtsp-pull',
            url: row.source_url ?? '',
            user: row.source_user,
            hasPassword: row.source_password !== null,
          },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Registry operations over the store; emits camera.* events after each committed change. */
export class CameraRegistry {
  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
  ) {}

  /** Every camera. */
  list(): Camera[] {
    return this.store.cameras.list().map(toCamera);
  }

  /** One camera; throws CameraError('not_found'). */
  get(id: string): Camera {
    return toCamera(this.row(id));
  }

  /** Entries for publish checks in the media plane. */
  publishTable(): PublishEntry[] {
    return this.store.cameras
      .list()
      .map((r) => ({ id: r.id, enabled: r.enabled === 1, kind: r.source_kind, keyHash: r.key_hash }));
  }

  /** Full rows of enabled pull cameras (with credentials), for the puller only. */
  pullSources(): CameraRow[] {
    return this.store.cameras.list().filter((r) => r.source_kind === 'rtsp-pull' && r.enabled === 1);
  }

  /** Creates a camera; a push camera's publish key is returned here once. */
  create(input: CameraInput, actor: string, ip: string | null): { camera: Camera; publishKey: string | null } {
    const key = input.source.kind === 'rtmp-push' ? newKey() : null;
    const row = this.store.transaction(() => {
      if (this.store.cameras.get(input.id)) throw new CameraError('exists', `camera ${input.id} already exists`, 'id');
      this.store.cameras.insert(writeOf(input, key));
      this.store.audit.add({ actor, action: 'camera-created', target: input.id, ip });
      return this.row(input.id);
    });
    this.bus.emit('camera.created', { id: row.id, kind: row.source_kind });
    return { camera: toCamera(row), publishKey: key };
  }

  /** Changes a camera; switching a camera to push issues a new key (returned once). */
  update(
    id: string,
    patch: CameraPatch,
    actor: string,
    ip: string | null,
  ): { camera: Camera; publishKey: string | null } {
    let key: string | null = null;
    const row = this.store.transaction(() => {
      const cur = this.row(id);
      const next: CameraWrite = { ...cur };
      if (patch.name !== undefined) next.name = patch.name;
      if (patch.site !== undefined) next.site = patch.site;
      if (patch.enabled !== undefined) next.enabled = patch.enabled ? 1 : 0;
      if (patch.source) {
        if (patch.source.kind === 'rtmp-push' && cur.source_kind !== 'rtmp-push') key = newKey();
        Object.assign(next, sourceColumns(patch.source, key, cur));
      }
      this.store.cameras.update(next);
      this.store.audit.add({ actor, action: 'camera-updated', target: id, ip });
      return this.row(id);
    });
    this.bus.emit('camera.updated', { id });
    return { camera: toCamera(row), publishKey: key };
  }

  /** Issues a new publish key; the old one stops working at once. */
  rotateKey(id: string, actor: string, ip: string | null): string {
    const key = newKey();
    this.store.transaction(() => {
      const cur = this.row(id);
      if (cur.source_kind !== 'rtmp-push')
        throw new CameraError('invalid', `camera ${id} pulls RTSP; it has no publish key`);
      this.store.cameras.update({ ...cur, key_hash: hashKey(key), key_rotated_at: new Date().toISOString() });
      this.store.audit.add({ actor, action: 'camera-key-rotated', target: id, ip });
    });
    this.bus.emit('camera.key-rotated', { id });
    return key;
  }

  /** Deletes a camera. */
  delete(id: string, actor: string, ip: string | null): void {
    this.store.transaction(() => {
      if (!this.store.cameras.delete(id)) throw new CameraError('not_found', `no camera ${id}`, 'id');
      this.store.audit.add({ actor, action: 'camera-deleted', target: id, ip });
    });
    this.bus.emit('camera.deleted', { id });
  }

  private row(id: string): CameraRow {
    const row = this.store.cameras.get(id);
    if (!row) throw new CameraError('not_found', `no camera ${id}`, 'id');
    return row;
  }
}

function newKey(): string {
  return randomBytes(24).toString('base64url');
}

function sourceColumns(source: SourceInput, key: string | null, cur?: CameraRow) {
  if (source.kind === 'rtmp-push') {
    return {
      source_kind: 'rtmp-push' as const,
      source_url: null,
      source_user: null,
      source_password: null,
      key_hash: key ? hashKey(key) : (cur?.key_hash ?? null),
      key_rotated_at: key ? new Date().toISOString() : (cur?.key_rotated_at ?? null),
    };
  }
  const parts = splitCredentials(source.url);
  // Editing a pull camera's URL without restating its credentials keeps the stored ones.
  const kept = cur?.source_kind === 'rtsp-pull' ? cur : undefined;
  return {
    source_kind: 'rtsp-pull' as const,
    source_url: parts.url,
    source_user: source.user ?? parts.user ?? kept?.source_user ?? null,
    source_password: source.password ?? parts.password ?? kept?.source_password ?? null,
    key_hash: null,
    key_rotated_at: null,
  };
}

function writeOf(input: CameraInput, key: string | null): CameraWrite {
  return {
    id: input.id,
    name: input.name,
    site: input.site,
    enabled: input.enabled ? 1 : 0,
    ...sourceColumns(input.source, key),
  };
}
