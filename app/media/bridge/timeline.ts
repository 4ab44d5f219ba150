/**
 * Media time of a bridged stream. FLV timestamps are 32-bit milliseconds that wrap (after 49.7 days) and that
 * cameras reset or step (encoder restart, NTP correction) without reconnecting; RTP readers want steady clocks.
 */

/** A jump of a track's FLV time beyond this (either way) is a discontinuity, not a frame interval. Live cameras go
 * down to ~1 fps in night modes, so normal intervals stay well below it. */
export const JUMP_MS = 3000;

/** AudioClock: a deviation beyond this that lasts AUDIO_PERSIST_FRAMES is drift or a gap, not timestamp jitter. */
export const AUDIO_TOLERANCE_MS = 100;
export const AUDIO_PERSIST_FRAMES = 10;
/** AudioClock: a forward deviation beyond this is a gap and is taken at once. */
export const AUDIO_GAP_MS = 1000;

interface TrackTime {
  lastRaw: number;
  lastMs: number;
  lastWall: number;
}

/**
 * FLV time → continuous ms since the first tag of the stream. Each track is unwrapped on its own (signed 32-bit
 * difference to its previous tag, so the wrap is invisible); a jump beyond JUMP_MS is replaced by the wall-clock
 * time that passed, which keeps a paused-then-resumed camera right and an encoder restart seamless.
 */
export class FlvTimeline {
  private base: number | undefined;
  private readonly tracks = new Map<string, TrackTime>();
  /** Jumps replaced so far (for stats). */
  discontinuities = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The continuous ms of `raw` (FLV timestamp) on `track`. */
  toMs(track: string, raw: number): number {
    raw >>>= 0;
    const wall = this.now();
    this.base ??= raw;
    const t = this.tracks.get(track);
    let ms: number;
    if (!t) {
      // A track's first tag is placed relative to the stream's first tag, so both tracks share one time base.
      ms = (raw - this.base) | 0;
    } else {
      const delta = (raw - t.lastRaw) | 0;
      if (delta > JUMP_MS || delta < -JUMP_MS) {
        this.discontinuities++;
        ms = t.lastMs + Math.max(1, wall - t.lastWall);
      } else {
        ms = t.lastMs + delta;
      }
    }
    this.tracks.set(track, { lastRaw: raw, lastMs: ms, lastWall: wall });
    return ms;
  }
}

/**
 * RTP ticks of AAC frames: a running count of samples per frame instead of FLV ms × rate. FLV ms are rounded
 * (1024 samples at 48 kHz = 21.33 ms), so converted times wobble by ±48 samples, and depacketizers and AAC parsers
 * (GStreamer's, ffmpeg's) read wobble as gaps and overlaps. The count is re-anchored to FLV time on a gap
 * (AUDIO_GAP_MS at once, AUDIO_TOLERANCE_MS when it lasts) so that A/V sync stays within the tolerance. When the
 * count runs ahead of FLV time instead (a fast audio clock), frames are dropped until it is back: going back in
 * time would make timestamps non-monotonic.
 */
export class AudioClock {
  private anchorMs = 0;
  private anchorTicks = 0;
  private count = -1;
  private offFrames = 0;
  private lastMs = 0;
  private lastTicks = 0;
  /** Re-anchors and dropped frames so far (for stats). */
  reanchors = 0;
  dropped = 0;

  constructor(
    readonly rate: number,
    readonly frameSamples: number,
  ) {}

  /** Ticks (no RTP offset) of a frame whose FLV time is `ms`, or undefined to drop it. */
  next(ms: number): number | undefined {
    if (this.count < 0) return this.emit(ms, this.anchor(ms));
    const dev = ms - this.expectedMs(this.count);
    this.offFrames = Math.abs(dev) > AUDIO_TOLERANCE_MS ? this.offFrames + 1 : 0;
    const lasting = this.offFrames >= AUDIO_PERSIST_FRAMES;
    if (dev > AUDIO_GAP_MS || (dev > AUDIO_TOLERANCE_MS && lasting)) {
      this.reanchors++;
      return this.emit(ms, this.anchor(ms));
    }
    if (dev < -AUDIO_GAP_MS || (dev < -AUDIO_TOLERANCE_MS && lasting)) {
      this.dropped++;
      return undefined;
    }
    return this.emit(ms, this.anchorTicks + this.count++ * this.frameSamples);
  }

  private emit(ms: number, ticks: number): number {
    this.lastMs = ms;
    this.lastTicks = ticks;
    return ticks;
  }

  /**
   * Ticks of FLV time `ms` for sender reports, extrapolated from the last frame sent; undefined before any frame.
   * It must agree with the packets' own ticks (the sample count), not with the anchor: readers re-base audio on the
   * first report, and a report off by the count's allowed drift (up to AUDIO_TOLERANCE_MS) moved audio timestamps
   * back, which ffmpeg reported as non-monotonic DTS.
   */
  ticksAt(ms: number): number | undefined {
    if (this.count < 0) return undefined;
    return this.lastTicks + Math.round(((ms - this.lastMs) * this.rate) / 1000);
  }

  private expectedMs(count: number): number {
    return this.anchorMs + (count * this.frameSamples * 1000) / this.rate;
  }

  private anchor(ms: number): number {
    this.anchorMs = ms;
    this.anchorTicks = Math.round((ms * this.rate) / 1000);
    this.count = 1;
    this.offFrames = 0;
    return this.anchorTicks;
  }
}
