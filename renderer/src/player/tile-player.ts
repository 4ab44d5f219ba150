/**
 * One mosaic tile's player: hls.js (light build) on a muted `<video>`, started when the StartQueue gives it a turn,
 * watched for stalls, torn down and retried with backoff when the stream is offline, the playlist fails or the
 * picture stops. `destroy()` leaves nothing behind: no hls.js instance, timer or listener, so no further request
 * reaches the core and its muxer stops `previews.hlsIdleS` later.
 */
import Hls, { type ErrorData, type HlsConfig } from 'hls.js/light';
import { retryDelayMs } from '../state/mosaic.js';
import type { StartQueue } from './start-queue.js';

/** What the badge says. */
export type TileState = 'starting' | 'playing' | 'stalled' | 'offline';

/** The state plus why (offline, stalled) and when the next try is; detail is null while all is well. */
export interface TileStatus {
  state: TileState;
  detail: string | null;
}

/** What a tile player is given. */
export interface TilePlayerOptions {
  video: HTMLVideoElement;
  /** The playlist, same origin: hls.js's requests carry the HttpOnly session cookie, so no secret is in any URL. */
  src: string;
  queue: StartQueue;
  onStatus(status: TileStatus): void;
  /** Renews the session cookie after a 401; true when a retry can succeed. */
  renewSession(): Promise<boolean>;
  /** Whether the node's last list says the stream is served (words a 503 as "busy" rather than "offline"). */
  online(): boolean;
}

/**
 * hls.js for live previews. Our playlists carry `EXT-X-SERVER-CONTROL:HOLD-BACK` (1.5 s), which hls.js takes as its
 * target latency as long as liveSyncDuration(Count) is not set here: it starts there, near the live edge, and plays
 * up to 10 % fast to get back after a stall. The first playlist request waits (≤ 10 s) for the muxer's first
 * segment, so it gets 15 s; a failed one is not retried by hls.js: the tile retries with its own backoff. Small
 * buffers: a wall of 16 tiles must not hold minutes of video. No worker: the ESM build has none to inject, and
 * fMP4 passthrough is cheap on the main thread.
 */
export const LIVE_CONFIG: Partial<HlsConfig> = {
  lowLatencyMode: true,
  maxLiveSyncPlaybackRate: 1.1,
  liveDurationInfinity: true,
  enableWorker: false,
  backBufferLength: 4,
  maxBufferLength: 6,
  maxMaxBufferLength: 10,
  manifestLoadPolicy: {
    default: { maxTimeToFirstByteMs: 15_000, maxLoadTimeMs: 20_000, timeoutRetry: null, errorRetry: null },
  },
};

/** Playing, but no new frame for this long: stalled. */
const STILL_MS = 3000;
/** Stalled this long: start over (the muxer or the camera may be gone). */
const RESTART_MS = 12_000;
/** Given a turn but not playing after this long: start over. */
const START_MS = 20_000;
const TICK_MS = 1000;

/** What an HTTP status of the playlist means to an operator. */
function describe(data: ErrorData, online: boolean): string {
  const code = data.response?.code;
  if (code === 404) return 'not served by this node (404)';
  if (code === 503) return online ? 'preview unavailable or busy (503)' : 'camera offline';
  if (code === 504) return 'no picture in time (504)';
  if (code === 401 || code === 403) return 'not signed in';
  return code ? `error ${code}` : data.details;
}

/** See the file comment. */
export class TilePlayer {
  private hls: Hls | null = null;
  private state: TileState | null = null;
  private detail: string | null = null;
  private attempt = 0;
  private renewed = false;
  /** Hands the start turn on to the next tile (once). */
  private handOn: (() => void) | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private lastTime = 0;
  private movedAt = 0;
  private openedAt = 0;
  private stopped = false;

  constructor(private readonly o: TilePlayerOptions) {}

  /** Attaches to the video and asks the queue for a turn. */
  start(): void {
    const v = this.o.video;
    v.muted = true; // the autoplay policy lets muted video play without a gesture; React does not set the attribute
    v.addEventListener('playing', this.onPlaying);
    v.addEventListener('waiting', this.onWaiting);
    this.tickTimer = setInterval(this.onTick, TICK_MS);
    this.queueUp();
  }

  /** The stream just came online: try now instead of at the end of the backoff. */
  retryNow(): void {
    if (this.stopped || this.state !== 'offline') return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.queueUp();
  }

  /** Stops for good: hls.js destroyed (its requests aborted), timers and listeners gone, the turn handed on. */
  destroy(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.tickTimer);
    this.o.video.removeEventListener('playing', this.onPlaying);
    this.o.video.removeEventListener('waiting', this.onWaiting);
    this.close();
    this.release();
  }

  private queueUp(): void {
    this.set('starting', this.o.queue.busy ? 'waiting for its turn' : null);
    this.handOn = this.o.queue.request(() => this.open());
  }

  private open(): void {
    if (this.stopped) return;
    this.set('starting', null);
    const hls = new Hls(LIVE_CONFIG);
    this.hls = hls;
    this.openedAt = performance.now();
    this.movedAt = this.openedAt;
    this.lastTime = this.o.video.currentTime;
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal && this.hls === hls) this.onFatal(data);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.o.video.play().catch((err: unknown) => {
        // AbortError: the tile was torn down meanwhile. NotAllowedError: autoplay refused (video not muted).
        if (this.hls === hls && err instanceof DOMException && err.name === 'NotAllowedError') {
          this.set('stalled', 'autoplay refused by the browser');
        }
      });
    });
    hls.attachMedia(this.o.video);
    hls.loadSource(this.o.src);
  }

  private readonly onPlaying = () => {
    if (this.stopped || !this.hls) return;
    this.attempt = 0;
    this.renewed = false;
    this.movedAt = performance.now();
    this.set('playing', null);
    this.release();
  };

  private readonly onWaiting = () => {
    if (this.state === 'playing') this.set('stalled', 'buffering');
  };

  private readonly onTick = () => {
    if (!this.hls) return;
    const now = performance.now();
    const t = this.o.video.currentTime;
    if (t !== this.lastTime) {
      this.lastTime = t;
      this.movedAt = now;
      if (this.state === 'stalled' && !this.o.video.paused) this.set('playing', null);
      return;
    }
    const still = now - this.movedAt;
    if (this.state === 'playing' && still > STILL_MS) this.set('stalled', 'no new frames');
    else if (this.state === 'stalled' && still > RESTART_MS) this.fail('stalled, starting over');
    else if (this.state === 'starting' && now - this.openedAt > START_MS) this.fail('no picture after 20 s');
  };

  private onFatal(data: ErrorData): void {
    const code = data.response?.code;
    if (code !== 401) return this.fail(describe(data, this.o.online()));
    // The access cookie expired: renew it once and retry at once; a second 401 in a row backs off as usual.
    this.close();
    this.release();
    if (this.renewed) return this.fail('not signed in', false);
    this.renewed = true;
    void this.o.renewSession().then((ok) => {
      if (this.stopped) return;
      if (ok) this.queueUp();
      else this.fail('session expired: sign in again', false);
    });
  }

  /** Tears down and schedules the next try (1 s, 2 s, 4 s … 30 s, jittered). */
  private fail(why: string, teardown = true): void {
    if (teardown) {
      this.close();
      this.release();
    }
    const delay = retryDelayMs(this.attempt++);
    this.set('offline', `${why} · retry in ${Math.max(1, Math.round(delay / 1000))} s`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.queueUp();
    }, delay);
  }

  private close(): void {
    const hls = this.hls;
    this.hls = null;
    hls?.destroy(); // detaches the video (revokes the MediaSource, empties src) and aborts every loader
  }

  private release(): void {
    const handOn = this.handOn;
    this.handOn = null;
    handOn?.();
  }

  private set(state: TileState, detail: string | null): void {
    if (this.stopped || (state === this.state && detail === this.detail)) return;
    this.state = state;
    this.detail = detail;
    this.o.onStatus({ state, detail });
  }
}
