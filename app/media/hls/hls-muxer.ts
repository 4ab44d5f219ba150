/** One HLS preview muxer: an ffmpeg under the Supervisor writing fMP4 HLS into its own directory under run/. */
import { mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChildSpec, ChildView } from '../../supervisor/types.js';
import { PreviewError } from '../preview/sources.js';
import { hasSegment } from './playlist.js';
import { PLAYLIST } from './hls-args.js';

/** What a muxer needs from the Supervisor. */
export interface MuxerSpawner {
  spawn(spec: ChildSpec): ChildView;
  remove(name: string): Promise<void>;
}

/** A muxer as listed by GET /api/v1/previews. */
export interface HlsMuxerStatus {
  stream: string;
  child: string;
  state: string;
  pid: number | null;
  startedAt: string;
  /** Milliseconds from start to the first playlist with a segment; null until then. */
  firstPlaylistMs: number | null;
}

const POLL_MS = 100;

/** The files of one stream's preview; stop() removes the child and the directory. */
export class HlsMuxer {
  private child: ChildView | null = null;
  private stopped = false;
  private readonly wakers = new Set<() => void>();
  private readonly startedAtMs = performance.now();
  private readonly startedAt = new Date().toISOString();
  private firstPlaylistMs: number | null = null;

  constructor(
    readonly stream: string,
    readonly dir: string,
    private readonly spec: ChildSpec,
    private readonly supervisor: MuxerSpawner,
  ) {}

  /** Creates the directory and spawns ffmpeg (its cwd is the directory). */
  start(): void {
    mkdirSync(this.dir, { recursive: true });
    this.child = this.supervisor.spawn({ ...this.spec, cwd: this.dir });
  }

  /** The current playlist once it lists a segment; waits up to `waitMs` for the first one. */
  async playlist(waitMs: number): Promise<string> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (this.stopped) throw new PreviewError('stopped', `the preview of ${this.stream} was stopped`);
      const text = await readFile(join(this.dir, PLAYLIST), 'utf8').catch(() => null);
      if (text !== null && hasSegment(text)) {
        this.firstPlaylistMs ??= Math.round(performance.now() - this.startedAtMs);
        return text;
      }
      if (performance.now() >= deadline) {
        const last = this.child?.logs().at(-1);
        const why = last ? `; ffmpeg said: ${last}` : '';
        throw new PreviewError('timeout', `no HLS playlist for ${this.stream} within ${waitMs / 1000} s${why}`);
      }
      await this.pause(POLL_MS);
    }
  }

  /** A file of the muxer's directory (the caller checks the name); null when it does not exist (any more). */
  async file(name: string): Promise<Buffer | null> {
    try {
      return await readFile(join(this.dir, name));
    } catch {
      return null;
    }
  }

  /** For the API. */
  status(): HlsMuxerStatus {
    const s = this.child?.status();
    return {
      stream: this.stream,
      child: this.spec.name,
      state: s?.state ?? 'stopped',
      pid: s?.pid ?? null,
      startedAt: this.startedAt,
      firstPlaylistMs: this.firstPlaylistMs,
    };
  }

  /** Stops ffmpeg (q, SIGTERM, SIGKILL), wakes waiting requests, removes the directory. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.wakers]) wake();
    try {
      if (this.child) await this.supervisor.remove(this.spec.name);
    } finally {
      this.child = null;
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
