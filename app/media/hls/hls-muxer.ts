/**
 * One HLS preview muxer: an ffmpeg under the Supervisor writing fMP4 HLS into its own directory under run/, and the
 * live window served from it, which carries on across restarts of that ffmpeg (see live-window.ts).
 */
import { mkdirSync } from 'node:fs';
import { readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChildSpec, ChildView } from '../../supervisor/types.js';
import { PreviewError } from '../preview/sources.js';
import { INIT_SEGMENT, PLAYLIST } from './hls-args.js';
import { LiveWindow, parseMuxerPlaylist, runOfInit, type ListedSegment, type WindowEntry } from './live-window.js';

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
  /** Runs of ffmpeg seen in its playlists (1 + restarts that produced a segment). */
  runs: number;
}

const POLL_MS = 100;
/** Segments of ended runs are deleted once this many newer ones left the window (a player may still fetch them). */
const GRACE = 2;

/** The files of one stream's preview; stop() removes the child and the directory. */
export class HlsMuxer {
  private child: ChildView | null = null;
  private stopped = false;
  private readonly wakers = new Set<() => void>();
  private readonly startedAtMs = performance.now();
  private readonly startedAt = new Date().toISOString();
  private firstPlaylistMs: number | null = null;
  /** When the window last gained a segment (performance.now()). */
  private grewAtMs: number | null = null;
  private readonly window: LiveWindow;
  /** The init section of each run still in the window (ffmpeg overwrites its file at every restart). */
  private readonly inits = new Map<number, Buffer>();
  private syncing: Promise<void> | null = null;
  /** The current run's last segments that left the window: ffmpeg keeps one of them, which nobody deletes if it dies. */
  private lastDropped: WindowEntry[] = [];
  /** Segments of ended runs that left the window, to delete (ffmpeg only deletes the segments of its own run). */
  private graveyard: WindowEntry[] = [];
  /** The mtime of the current run's `init.mp4`, which identifies the run (null before the first). */
  private runInitNs: bigint | null = null;

  constructor(
    readonly stream: string,
    readonly dir: string,
    private readonly spec: ChildSpec,
    private readonly supervisor: MuxerSpawner,
    listSize: number,
  ) {
    this.window = new LiveWindow(listSize);
  }

  /** Creates the directory and spawns ffmpeg (its cwd is the directory). */
  start(): void {
    mkdirSync(this.dir, { recursive: true });
    this.child = this.supervisor.spawn({ ...this.spec, cwd: this.dir });
  }

  /** The playlist to serve once it lists a segment; waits up to `waitMs` for the first one. */
  async playlist(waitMs: number): Promise<string> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (this.stopped) throw new PreviewError('stopped', `the preview of ${this.stream} was stopped`);
      await this.sync();
      const text = this.window.render();
      if (text !== null) {
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

  /** A run's init section (`init.mp4`, `init2.mp4`…) or a segment (the caller checks the name); null when gone. */
  async file(name: string): Promise<Buffer | null> {
    const run = runOfInit(name);
    if (run !== null) return this.inits.get(run) ?? null;
    try {
      return await readFile(join(this.dir, name));
    } catch {
      return null;
    }
  }

  /** The byte size of what file() would return; null when it would return null. */
  async size(name: string): Promise<number | null> {
    const run = runOfInit(name);
    if (run !== null) return this.inits.get(run)?.length ?? null;
    try {
      return (await stat(join(this.dir, name))).size;
    } catch {
      return null;
    }
  }

  /** True when the window gained a segment within the last `ms` (as of the latest playlist request). */
  listedWithin(ms: number): boolean {
    return this.grewAtMs !== null && performance.now() - this.grewAtMs <= ms;
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
      runs: this.window.run,
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
      await this.syncing?.catch(() => {});
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** Brings the window up to ffmpeg's latest playlist; concurrent callers share one pass. */
  private sync(): Promise<void> {
    this.syncing ??= this.update().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async update(): Promise<void> {
    const text = await readFile(join(this.dir, PLAYLIST), 'utf8').catch(() => null);
    const listed = text === null ? [] : parseMuxerPlaylist(text);
    if (listed.length === 0 || this.stopped) return;
    const run = await this.runOf(listed);
    if (run === null) return; // cannot be told yet: the next pass reads again
    if (run !== 'current') {
      this.runInitNs = run.mtimeNs;
      this.inits.set(this.window.run + 1, run.init);
      this.graveyard.push(...this.lastDropped); // what the ended run's ffmpeg had not deleted yet
      this.lastDropped = [];
    }
    const length = this.window.length;
    const dropped = this.window.merge(listed, run !== 'current');
    if (this.window.length > length || dropped.length > 0) this.grewAtMs = performance.now();
    for (const e of dropped) {
      if (e.run !== this.window.run) this.graveyard.push(e);
      else this.lastDropped = [...this.lastDropped, e].slice(-GRACE);
    }
    const runs = new Set(this.window.list().map((e) => e.run));
    for (const r of this.inits.keys()) if (!runs.has(r)) this.inits.delete(r);
    const due = this.graveyard.filter((e) => e.msn < this.window.firstMsn - GRACE);
    this.graveyard = this.graveyard.filter((e) => !due.includes(e));
    for (const e of due) await unlink(join(this.dir, e.uri)).catch(() => {});
  }

  /**
   * Which run of ffmpeg wrote `listed`. Every run writes `init.mp4` once, before its first segment, so a run is known
   * by that file's mtime: unchanged → the current run; newer and not newer than the last listed segment → a new run
   * (returned with its init section, read twice-stat'ed so a concurrent rewrite is caught); newer than the segments →
   * the next run has not listed anything yet, and `listed` is still the current run's if it continues it. Null when
   * it cannot be told (then nothing is taken).
   */
  private async runOf(listed: readonly ListedSegment[]): Promise<'current' | { mtimeNs: bigint; init: Buffer } | null> {
    const file = join(this.dir, INIT_SEGMENT);
    try {
      const before = await stat(file, { bigint: true });
      if (before.mtimeNs === this.runInitNs) return 'current';
      const segment = await stat(join(this.dir, listed.at(-1)!.uri), { bigint: true });
      if (before.mtimeNs > segment.mtimeNs) return this.window.continues(listed) ? 'current' : null;
      const init = await readFile(file);
      const after = await stat(file, { bigint: true });
      return after.mtimeNs === before.mtimeNs ? { mtimeNs: before.mtimeNs, init } : null;
    } catch {
      return null;
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
