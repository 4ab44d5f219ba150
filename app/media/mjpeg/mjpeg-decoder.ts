/** One MJPEG preview decoder: an ffmpeg under the Supervisor writing JPEG images to fd 3, shared by its viewers. */
import { performance } from 'node:perf_hooks';
import type { ChildSpec, ChildView } from '../../supervisor/types.js';
import { PreviewError } from '../preview/sources.js';
import { JpegSplitter } from './jpeg-splitter.js';

/** What a decoder needs from the Supervisor. */
export interface DecoderSpawner {
  spawn(spec: ChildSpec): ChildView;
  remove(name: string): Promise<void>;
}

/** A decoder as listed by GET /api/v1/previews. */
export interface MjpegDecoderStatus {
  stream: string;
  fps: number;
  width: number;
  child: string;
  state: string;
  pid: number | null;
  /** Images decoded since start. */
  images: number;
  /** Bytes of the latest image; null before the first. */
  latestBytes: number | null;
}

type Waiter = { resolve: (jpeg: Buffer) => void; reject: (err: Error) => void };

/** The images of one (stream, fps, width); the latest one is kept for snapshots. */
export class MjpegDecoder {
  private child: ChildView | null = null;
  private latest: { jpeg: Buffer; atMs: number } | null = null;
  private readonly sinks = new Set<(jpeg: Buffer) => void>();
  private readonly waiters = new Set<Waiter>();
  private readonly splitter = new JpegSplitter((jpeg) => this.onImage(jpeg));
  private attempt = 0;
  private images = 0;
  private stopped = false;

  constructor(
    readonly stream: string,
    readonly fps: number,
    readonly width: number,
    private readonly spec: ChildSpec,
    private readonly supervisor: DecoderSpawner,
  ) {}

  /** Spawns ffmpeg with fd 3 wired to the JPEG splitter. */
  start(): void {
    this.child = this.supervisor.spawn({ ...this.spec, dataPipe: (chunk, attempt) => this.onData(chunk, attempt) });
  }

  /** Calls `sink` with every image from now on; returns the unsubscribe function. */
  subscribe(sink: (jpeg: Buffer) => void): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** The latest image if it is at most `maxAgeMs` old. */
  latestImage(maxAgeMs: number): Buffer | null {
    const l = this.latest;
    return l && performance.now() - l.atMs <= maxAgeMs ? l.jpeg : null;
  }

  /** The next image, or a PreviewError after `timeoutMs` (or when the decoder stops first). */
  nextImage(timeoutMs: number): Promise<Buffer> {
    if (this.stopped) return Promise.reject(new PreviewError('stopped', `the preview of ${this.stream} was stopped`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const last = this.child?.logs().at(-1);
        const why = last ? `; ffmpeg said: ${last}` : '';
        reject(new PreviewError('timeout', `no image of ${this.stream} within ${timeoutMs / 1000} s${why}`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (jpeg) => {
          clearTimeout(timer);
          resolve(jpeg);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** For the API. */
  status(): MjpegDecoderStatus {
    const s = this.child?.status();
    return {
      stream: this.stream,
      fps: this.fps,
      width: this.width,
      child: this.spec.name,
      state: s?.state ?? 'stopped',
      pid: s?.pid ?? null,
      images: this.images,
      latestBytes: this.latest?.jpeg.length ?? null,
    };
  }

  /** Stops ffmpeg; pending nextImage() calls fail, subscribers get nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sinks.clear();
    const err = new PreviewError('stopped', `the preview of ${this.stream} was stopped`);
    for (const w of [...this.waiters]) w.reject(err);
    this.waiters.clear();
    this.latest = null;
    if (this.child) await this.supervisor.remove(this.spec.name);
    this.child = null;
    this.splitter.reset();
  }

  private onData(chunk: Buffer, attempt: number): void {
    if (this.stopped) return;
    if (attempt !== this.attempt) {
      this.splitter.reset(); // a restarted ffmpeg: a partial image of the previous one never completes
      this.attempt = attempt;
    }
    this.splitter.push(chunk);
  }

  private onImage(jpeg: Buffer): void {
    this.images += 1;
    this.latest = { jpeg, atMs: performance.now() };
    for (const sink of [...this.sinks]) sink(jpeg);
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w.resolve(jpeg);
  }
}
