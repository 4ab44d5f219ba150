/** MJPEG previews and snapshots: one decoder per (stream, fps, width) shared by its viewers, the latest image cached. */
import type { Logger } from '../../log/logger.js';
import { SessionTable } from '../preview/sessions.js';
import { PreviewError, requireOnline, type Feed, type PreviewSources } from '../preview/sources.js';
import { mjpegArgs } from './mjpeg-args.js';
import { MjpegDecoder, type DecoderSpawner, type MjpegDecoderStatus } from './mjpeg-decoder.js';
import { MultipartViewer, type PartSink, type ViewerCounters } from './multipart.js';

/** The `previews` settings MJPEG reads (live: read on every use). */
export interface MjpegOptions {
  /** Milliseconds a decoder keeps running after its last viewer left (0: stop at once). */
  mjpegLingerMs: number;
  /** Decoders at most; the next (stream, fps, width) gets 503. */
  maxSessions: number;
}

/** What the MJPEG service is built from. */
export interface MjpegDeps {
  supervisor: DecoderSpawner;
  sources: PreviewSources;
  /** The ffmpeg binary (resolved by the core). */
  ffmpeg: () => string;
  options: () => MjpegOptions;
  log: Logger;
}

/** Rate and width of a viewer that asks for none, and of snapshots without a running decoder. */
export const DEFAULT_FPS = 5;
export const DEFAULT_WIDTH = 640;
/** How long a snapshot or a new viewer waits for the first image. */
export const IMAGE_WAIT_MS = 10_000;

/** A viewer attached to a decoder. */
export interface MjpegViewerHandle {
  /** Starts sending: the latest image at once if it is fresh (no wait of a whole frame interval), then every new one. */
  begin(): void;
  /** Detaches the viewer (the last one starts the decoder's linger). */
  close(): void;
  counters(): ViewerCounters;
}

/** Owns every MJPEG decoder of the node. */
export class MjpegService {
  private table: SessionTable<MjpegDecoder> | null = null;
  private readonly viewers = new Map<MjpegDecoder, Set<MultipartViewer>>();
  private seq = 0;

  constructor(private readonly deps: MjpegDeps) {}

  /** Accepts viewers. */
  async start(): Promise<void> {
    this.table = new SessionTable(
      () => this.deps.options().mjpegLingerMs,
      (err, key) => this.deps.log.warn({ err, stream: key }, 'MJPEG decoder did not stop cleanly'),
    );
  }

  /** Ends every viewer's response and stops every decoder: no process, timer or open response is left. */
  async stop(): Promise<void> {
    const table = this.table;
    this.table = null;
    for (const group of this.viewers.values()) for (const viewer of group) viewer.end();
    this.viewers.clear();
    await table?.stopAll();
  }

  /**
   * Attaches a viewer that will write parts to `out`: joins the decoder of (stream, fps, width) or starts it. Throws
   * a PreviewError (unknown, offline, busy) before anything is written; begin() starts the parts.
   */
  attach(feed: Feed, path: string, fps: number, width: number, out: PartSink): MjpegViewerHandle {
    const table = this.running();
    const stream = `${feed}/${path}`;
    const key = `${stream}@${fps}fps/${width}w`;
    const source = requireOnline(this.deps.sources, feed, path);
    this.refuseWhenFull(table, key);
    const decoder = table.acquire(key, () => this.create(key, stream, source.url, fps, width));
    const viewer = new MultipartViewer(out);
    const group = this.viewers.get(decoder) ?? new Set();
    group.add(viewer);
    this.viewers.set(decoder, group);
    let off: (() => void) | null = null;
    let closed = false;
    return {
      begin: () => {
        if (closed || off) return;
        const fresh = decoder.latestImage(1000 / fps);
        if (fresh) viewer.offer(fresh);
        off = decoder.subscribe((jpeg) => viewer.offer(jpeg));
      },
      close: () => {
        if (closed) return;
        closed = true;
        off?.();
        group.delete(viewer);
        if (group.size === 0) this.viewers.delete(decoder);
        this.table?.release(key, decoder);
      },
      counters: () => viewer.counters(),
    };
  }

  /**
   * The latest image of `feed/path`: from a running decoder when it has a fresh one (of `width` if given, else the
   * widest), otherwise from the decoder of (stream, 5 fps, width or 640) started or joined for it.
   */
  async snapshot(feed: Feed, path: string, width: number | null, waitMs = IMAGE_WAIT_MS): Promise<Buffer> {
    const table = this.running();
    const stream = `${feed}/${path}`;
    const source = requireOnline(this.deps.sources, feed, path);
    const cached = this.cached(table, stream, width);
    if (cached) return cached;
    const w = width ?? DEFAULT_WIDTH;
    const key = `${stream}@${DEFAULT_FPS}fps/${w}w`;
    this.refuseWhenFull(table, key);
    const decoder = table.acquire(key, () => this.create(key, stream, source.url, DEFAULT_FPS, w));
    try {
      return decoder.latestImage(1000) ?? (await decoder.nextImage(waitMs));
    } finally {
      table.release(key, decoder);
    }
  }

  /**
   * Throws the PreviewError that attach() (`fps` and `width` given) or snapshot() (`fps` null) would throw, without
   * starting, joining or touching any decoder: what a HEAD answers.
   */
  check(feed: Feed, path: string, fps: number | null, width: number | null): void {
    const table = this.running();
    const stream = `${feed}/${path}`;
    requireOnline(this.deps.sources, feed, path);
    if (fps === null && this.cached(table, stream, width)) return;
    this.refuseWhenFull(table, `${stream}@${fps ?? DEFAULT_FPS}fps/${width ?? DEFAULT_WIDTH}w`);
  }

  /** Running decoders with their viewers' counters, for GET /api/v1/previews. */
  decoders(): Array<MjpegDecoderStatus & { users: number; viewers: ViewerCounters[] }> {
    return (this.table?.list() ?? []).map((e) => ({
      ...e.session.status(),
      users: e.users,
      viewers: [...(this.viewers.get(e.session) ?? [])].map((v) => v.counters()),
    }));
  }

  private running(): SessionTable<MjpegDecoder> {
    if (!this.table) throw new PreviewError('stopped', 'previews are not running');
    return this.table;
  }

  /** A fresh image of `stream` from a running decoder (of `width` if given, else the widest). */
  private cached(table: SessionTable<MjpegDecoder>, stream: string, width: number | null): Buffer | undefined {
    return table
      .list()
      .map((e) => e.session)
      .filter((d) => d.stream === stream && (width === null || d.width === width))
      .sort((a, b) => b.width - a.width)
      .map((d) => d.latestImage(Math.max(1000, 2000 / d.fps)))
      .find((jpeg) => jpeg !== null);
  }

  /** Throws `busy` when `key` has no decoder and no other may start. */
  private refuseWhenFull(table: SessionTable<MjpegDecoder>, key: string): void {
    if (!table.get(key) && table.size >= this.deps.options().maxSessions) {
      throw new PreviewError('busy', `${table.size} MJPEG decoders are running, the most this node allows`);
    }
  }

  private create(key: string, stream: string, url: string, fps: number, width: number): MjpegDecoder {
    const spec = {
      name: `mjpeg:${key}#${++this.seq}`,
      kind: 'ffmpeg' as const,
      command: this.deps.ffmpeg(),
      args: mjpegArgs({ url, fps, width }),
      progress: true,
    };
    const decoder = new MjpegDecoder(stream, fps, width, spec, this.deps.supervisor);
    decoder.start();
    this.deps.log.info({ stream, fps, width, child: spec.name }, 'MJPEG preview started');
    return decoder;
  }
}
