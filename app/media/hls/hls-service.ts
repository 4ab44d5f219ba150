/** On-demand HLS previews: a muxer per stream, started by the first request, stopped after the last one goes idle. */
import { mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log/logger.js';
import { SessionTable } from '../preview/sessions.js';
import { PreviewError, requireOnline, type Feed, type PreviewSources } from '../preview/sources.js';
import { hlsArgs } from './hls-args.js';
import { HlsMuxer, type HlsMuxerStatus, type MuxerSpawner } from './hls-muxer.js';

/** The `previews` settings HLS reads (live: read on every use). */
export interface HlsOptions {
  /** Seconds a muxer keeps running after its last request. */
  hlsIdleS: number;
  /** Muxers at most; the next stream gets 503. */
  maxSessions: number;
}

/** What the HLS service is built from. */
export interface HlsDeps {
  supervisor: MuxerSpawner;
  sources: PreviewSources;
  /** The ffmpeg binary (resolved by the core). */
  ffmpeg: () => string;
  /** Parent of the muxers' directories (`<dataDir>/run/hls`); emptied at start, removed at stop. */
  dir: string;
  options: () => HlsOptions;
  log: Logger;
}

/** Segment length in seconds: with a 1 s GOP, 1 s segments cut at every keyframe. */
export const SEGMENT_S = 1;
const LIST_SIZE = 6;
/** How long the first playlist request waits for ffmpeg to finish the first segment. */
export const PLAYLIST_WAIT_MS = 10_000;
/** How long after its last new segment a muxer still serves its playlist while the stream is offline. */
export const OFFLINE_SERVE_MS = 10_000;

/** Owns every HLS muxer of the node. */
export class HlsService {
  private table: SessionTable<HlsMuxer> | null = null;
  private seq = 0;

  constructor(private readonly deps: HlsDeps) {}

  /** Removes what a crashed run left in the directory and accepts requests. */
  async start(): Promise<void> {
    rmSync(this.deps.dir, { recursive: true, force: true });
    mkdirSync(this.deps.dir, { recursive: true });
    this.table = new SessionTable(
      () => this.deps.options().hlsIdleS * 1000,
      (err, key) => this.deps.log.warn({ err, stream: key }, 'HLS muxer did not stop cleanly'),
    );
  }

  /** Stops every muxer (no process, timer or file is left) and refuses further requests. */
  async stop(): Promise<void> {
    const table = this.table;
    this.table = null;
    await table?.stopAll();
    await rm(this.deps.dir, { recursive: true, force: true });
  }

  /** The playlist of `feed/path`; the first request starts the muxer and waits (≤ waitMs) for its first segment. */
  async playlist(feed: Feed, path: string, waitMs = PLAYLIST_WAIT_MS): Promise<string> {
    const table = this.running();
    const key = `${feed}/${path}`;
    const url = this.admit(table, feed, path);
    const muxer = table.acquire(key, () => this.create(key, url));
    try {
      return await muxer.playlist(waitMs);
    } finally {
      table.release(key, muxer);
    }
  }

  /** The init section or a segment of a running muxer (it counts as a request); null when none runs or it is gone. */
  async file(feed: Feed, path: string, name: string): Promise<Buffer | null> {
    const table = this.running();
    const key = `${feed}/${path}`;
    const existing = table.get(key);
    if (!existing) return null;
    const muxer = table.acquire(key, () => existing);
    try {
      return await muxer.file(name);
    } finally {
      table.release(key, muxer);
    }
  }

  /** Throws the PreviewError that playlist() would throw, without starting or touching a muxer: what a HEAD answers. */
  check(feed: Feed, path: string): void {
    this.admit(this.running(), feed, path);
  }

  /** The size of a file that file() would return, without counting as a request; null when it would return null. */
  async size(feed: Feed, path: string, name: string): Promise<number | null> {
    return (await this.running().get(`${feed}/${path}`)?.size(name)) ?? null;
  }

  /** Running muxers, for GET /api/v1/previews. */
  muxers(): Array<HlsMuxerStatus & { requests: number }> {
    return (this.table?.list() ?? []).map((e) => ({ ...e.session.status(), requests: e.users }));
  }

  private running(): SessionTable<HlsMuxer> {
    if (!this.table) throw new PreviewError('stopped', 'previews are not running');
    return this.table;
  }

  /**
   * The source URL to start the muxer of `feed/path` from, or throws what a client should see (unknown, offline,
   * busy). A stream that went offline a moment ago (its publisher reconnecting) is still served by its muxer if that
   * listed a segment within OFFLINE_SERVE_MS: players keep their window instead of failing on a 503.
   */
  private admit(table: SessionTable<HlsMuxer>, feed: Feed, path: string): string {
    const key = `${feed}/${path}`;
    const source = this.deps.sources.resolve(feed, path);
    if (source && !source.online && table.get(key)?.listedWithin(OFFLINE_SERVE_MS)) return source.url;
    const { url } = requireOnline(this.deps.sources, feed, path);
    if (!table.get(key) && table.size >= this.deps.options().maxSessions) {
      throw new PreviewError('busy', `${table.size} HLS previews are running, the most this node allows`);
    }
    return url;
  }

  private create(key: string, url: string): HlsMuxer {
    const n = ++this.seq;
    const spec = {
      name: `hls:${key}#${n}`,
      kind: 'ffmpeg' as const,
      command: this.deps.ffmpeg(),
      args: hlsArgs({ url, segmentS: SEGMENT_S, listSize: LIST_SIZE }),
      progress: true,
    };
    const muxer = new HlsMuxer(key, join(this.deps.dir, String(n)), spec, this.deps.supervisor, LIST_SIZE);
    muxer.start();
    this.deps.log.info({ stream: key, child: spec.name }, 'HLS preview started');
    return muxer;
  }
}
