/**
 * A job's speed now, not since it started: ffmpeg's own `speed=` is media time over wall time since the start, so a
 * job that kept up for an hour and then fell behind would still read ≈ 1 for many minutes. This meter takes the
 * media time that `-progress` reports (out_time) and divides its advance by the wall time over a short window.
 */

interface Sample {
  at: number;
  outMs: number;
}

/** See the file comment. */
export class SpeedMeter {
  private readonly samples: Sample[] = [];

  constructor(private readonly windowMs = 5000) {}

  /** Records ffmpeg's out_time (ms) read at wall time `at` (ms). A lower out_time (a restart) starts over. */
  add(outMs: number, at: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && outMs < last.outMs) this.samples.length = 0;
    this.samples.push({ at, outMs });
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.windowMs) this.samples.shift();
  }

  /** Speed over the window ending at `now`; null until the window is (almost) covered. */
  speed(now: number): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last === first) return null;
    // A job whose progress stopped arriving is not running at its last speed.
    const end = Math.max(last.at, now - 1500);
    const wall = end - first.at;
    if (wall < this.windowMs * 0.8) return null;
    return (last.outMs - first.outMs) / wall;
  }

  /** Forgets everything (the job was restarted or parked). */
  reset(): void {
    this.samples.length = 0;
  }
}
