/** Restart delays: exponential backoff with jitter, reset once a child has proven healthy. */

/** The knobs of a backoff, in milliseconds. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Uptime after which the previous failures are forgiven. */
  healthyAfterMs: number;
  /** Relative spread around the exponential value, 0..1 (default 0.2 = ±20%). */
  jitter?: number;
}

/**
 * The delay before restart number `failure` (1-based count of consecutive failures).
 * Jitter spreads restarts of many children that died together (e.g. one camera host rebooting)
 * so they do not hammer the same peer in lockstep; the result never exceeds `maxMs`.
 */
export function backoffDelay(failure: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
  const exponent = Math.max(0, Math.min(failure - 1, 30)); // 2^30 already dwarfs any maxMs; avoids Infinity
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** exponent);
  const spread = 1 - jitter + 2 * jitter * random();
  return Math.max(1, Math.min(opts.maxMs, Math.round(base * spread)));
}

/** Counts consecutive failures of one child and turns them into delays. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records an exit after `uptimeMs` of running and returns the delay before the next start. */
  next(uptimeMs: number): number {
    // Deciding at exit time (instead of with a "healthy" timer) keeps one less timer to clear in stop().
    if (uptimeMs >= this.opts.healthyAfterMs) this.failures = 0;
    this.failures += 1;
    return backoffDelay(this.failures, this.opts, this.random);
  }

  /** Consecutive failures counted so far. */
  get count(): number {
    return this.failures;
  }

  /** Forgets past failures. */
  reset(): void {
    this.failures = 0;
  }
}
