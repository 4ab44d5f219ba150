/** A stall detector: fires once when no activity was seen for a given time. */
import { performance } from 'node:perf_hooks';

/**
 * One timer per child, re-armed lazily: touch() only stores a timestamp, so a chatty child costs no timer churn.
 * Uses the monotonic clock so a wall-clock jump (NTP, suspend) cannot fake or hide a stall.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private armedAt = 0;
  private firstTimeoutMs = 0;
  private lastActivity = Number.NEGATIVE_INFINITY;
  private armed = false;

  constructor(
    private readonly timeoutMs: number | null,
    private readonly onStall: (silentMs: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts watching; until the first activity the deadline is `firstTimeoutMs` (start-up may be slower). */
  arm(firstTimeoutMs = this.timeoutMs ?? 0): void {
    this.disarm();
    if (this.timeoutMs === null) return;
    this.armed = true;
    this.armedAt = this.now();
    this.firstTimeoutMs = Math.max(firstTimeoutMs, this.timeoutMs);
    this.lastActivity = Number.NEGATIVE_INFINITY;
    this.schedule(this.firstTimeoutMs);
  }

  /** Records activity. */
  touch(): void {
    const first = this.lastActivity < this.armedAt;
    this.lastActivity = this.now();
    // The pending timer was set for the longer start-up window; bring it forward once, on the first activity.
    if (first && this.armed && this.timeoutMs !== null) {
      if (this.timer) clearTimeout(this.timer);
      this.schedule(this.timeoutMs);
    }
  }

  /** Stops watching and clears the timer. */
  disarm(): void {
    this.armed = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.check(), Math.max(1, Math.ceil(ms)));
  }

  private check(): void {
    this.timer = undefined;
    if (!this.armed || this.timeoutMs === null) return;
    const active = this.lastActivity >= this.armedAt;
    const since = active ? this.lastActivity : this.armedAt;
    const deadline = since + (active ? this.timeoutMs : this.firstTimeoutMs);
    const now = this.now();
    if (now < deadline) return this.schedule(deadline - now);
    this.armed = false;
    this.onStall(Math.round(now - since));
  }
}
