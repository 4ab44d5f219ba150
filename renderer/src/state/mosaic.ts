/**
 * Pure parts of the mosaic: which streams a node can preview (a master's relays, a slave's cameras), which feed each
 * tile plays, paging, retry delays and the operator's grid/feed choice.
 */
import type { Camera } from '../../../app/defs/camera.js';
import type { BusEvent } from '../../../app/defs/events.js';
import type { RtspPathStats } from '../../../app/defs/rtsp.js';

/** F1 (full quality) or F2 (compressed, the cheap one to watch). */
export type Feed = 'f1' | 'f2';

/**
 * One relay as `GET /api/v1/relays` lists it on a master (the fields read here of `MasterRelay` in
 * app/roles/master.ts, which app/defs does not export yet).
 */
export interface RelayRow {
  site: string;
  camera: string;
  plane: Feed;
  /** `<site>/<camera>` on this master. */
  path: string;
  /** The puller's state (`connecting`, `playing`, `backoff`; null before the first report): playing = served here. */
  state: string | null;
}

/** One stream as `GET /api/v1/streams` lists it (the fields read here of `PlaneStream` in app/media/worker). */
export interface StreamRow {
  plane: Feed;
  stats: Pick<RtspPathStats, 'path' | 'publisher'>;
}

/** What the mosaic's list is made of; null for a list this node does not have (no master role: no relays). */
export interface MosaicInput {
  relays: RelayRow[] | null;
  cameras: Camera[] | null;
  streams: StreamRow[] | null;
}

/** One tile of the mosaic. */
export interface MosaicSource {
  /** `<feed>/<path>`: the preview name (`/hls/<key>/index.m3u8`) and the React key. */
  key: string;
  feed: Feed;
  path: string;
  /** Camera name (a slave's camera) or id (a master's relay: the master knows no names). */
  camera: string;
  site: string;
  /** The feed played is not the one chosen (it has no such feed now, e.g. no F2 without a compressor). */
  fallback: boolean;
  /** Served now, as far as the last list knows. */
  online: boolean;
}

/** Grid sizes offered: at most this many tiles (HLS muxers on the node) per page. */
export const GRID_SIZES = [1, 4, 9, 16] as const;

/** One grid size. */
export type GridSize = (typeof GRID_SIZES)[number];

/** The operator's choice, kept in localStorage (no secret in it). */
export interface MosaicPrefs {
  grid: GridSize;
  feed: Feed;
}

/** Four tiles of F2 until the operator chooses otherwise. */
export const DEFAULT_PREFS: MosaicPrefs = { grid: 4, feed: 'f2' };

/** Reads stored prefs; anything unreadable or out of range falls back to the default field by field. */
export function parsePrefs(raw: string | null): MosaicPrefs {
  let value: unknown;
  try {
    value = raw ? JSON.parse(raw) : null;
  } catch {
    value = null;
  }
  const v = (value && typeof value === 'object' ? value : {}) as Partial<Record<keyof MosaicPrefs, unknown>>;
  const grid = GRID_SIZES.find((g) => g === v.grid) ?? DEFAULT_PREFS.grid;
  const feed = v.feed === 'f1' || v.feed === 'f2' ? v.feed : DEFAULT_PREFS.feed;
  return { grid, feed };
}

/** Which feed to play among those online: the chosen one, else the other one, else the chosen one (offline). */
function pick(chosen: Feed, online: ReadonlySet<Feed>): { feed: Feed; fallback: boolean; online: boolean } {
  if (online.has(chosen)) return { feed: chosen, fallback: false, online: true };
  const other: Feed = chosen === 'f1' ? 'f2' : 'f1';
  if (online.has(other)) return { feed: other, fallback: true, online: true };
  return { feed: chosen, fallback: false, online: false };
}

/**
 * Every stream the node can preview, one tile per camera, sorted by site then camera: a master's relays
 * (`<site>/<camera>`) and a slave's enabled cameras (path = camera id). A node with both roles lists both, except
 * the relays of its own cameras (they would be the same picture twice; the local path has the name and no hop).
 */
export function mosaicSources(input: MosaicInput, chosen: Feed): MosaicSource[] {
  const out: MosaicSource[] = [];
  const served = new Map<string, Set<Feed>>();
  for (const s of input.streams ?? []) {
    if (!s.stats.publisher) continue;
    const planes = served.get(s.stats.path) ?? new Set<Feed>();
    planes.add(s.plane);
    served.set(s.stats.path, planes);
  }
  const local = new Set<string>();
  for (const cam of input.cameras ?? []) {
    if (!cam.enabled) continue;
    local.add(`${cam.site}/${cam.id}`);
    const p = pick(chosen, served.get(cam.id) ?? new Set());
    out.push({ key: `${p.feed}/${cam.id}`, path: cam.id, camera: cam.name, site: cam.site, ...p });
  }
  const relayed = new Map<string, { row: RelayRow; online: Set<Feed> }>();
  for (const row of input.relays ?? []) {
    if (local.has(`${row.site}/${row.camera}`)) continue;
    const entry = relayed.get(row.path) ?? { row, online: new Set<Feed>() };
    if (row.state === 'playing' || served.get(row.path)?.has(row.plane)) entry.online.add(row.plane);
    relayed.set(row.path, entry);
  }
  for (const [path, { row, online }] of relayed) {
    const p = pick(chosen, online);
    out.push({ key: `${p.feed}/${path}`, path, camera: row.camera, site: row.site, ...p });
  }
  return out.sort((a, b) => a.site.localeCompare(b.site) || a.camera.localeCompare(b.camera) || cmp(a.key, b.key));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Number of pages of `total` tiles at `size` per page (at least 1). */
export function pageCount(total: number, size: number): number {
  return Math.max(1, Math.ceil(total / size));
}

/** The tiles of page `page` (0-based, clamped into range). */
export function pageOf<T>(list: readonly T[], size: number, page: number): T[] {
  const p = Math.min(Math.max(0, page), pageCount(list.length, size) - 1);
  return list.slice(p * size, p * size + size);
}

/** First retry after 1 s, doubling up to 30 s. */
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 30_000;

/** Delay before retry number `attempt` (0-based): exponential, capped, ±20 % jitter so that tiles spread out. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** What new events mean to the mosaic: streams that came online (tile keys) and whether its list is stale. */
export interface MosaicNews {
  online: string[];
  reload: boolean;
}

const LIST_EVENTS: ReadonlySet<string> = new Set([
  'stream.online',
  'stream.offline',
  'camera.created',
  'camera.updated',
  'camera.deleted',
]);

/** Reads the events in `now` that were not in `before` (both newest first, as the feed store keeps them). */
export function mosaicNews(now: readonly BusEvent[], before: readonly BusEvent[]): MosaicNews {
  const news: MosaicNews = { online: [], reload: false };
  if (now === before) return news;
  const top = before[0];
  const end = top ? now.indexOf(top) : -1;
  for (const e of end < 0 ? now : now.slice(0, end)) {
    if (LIST_EVENTS.has(e.type)) news.reload = true;
    if (e.type === 'stream.online') {
      const d = e.data as BusEvent<'stream.online'>['data'];
      news.online.push(`${d.plane}/${d.path}`);
    }
  }
  return news;
}
