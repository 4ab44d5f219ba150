/**
 * Camera leases on a slave: several compressors pointed at one slave split its cameras by claiming each one with a
 * lease (a TTL they renew while the job runs). A compressor that dies stops renewing, its leases expire, and another
 * compressor's next claim takes the camera over.
 *
 * In memory on purpose: a slave restart drops every lease, and each holder gets its camera back on its next renewal
 * (a claim on a free camera is granted). The only window is a few seconds in which a second compressor could claim a
 * camera first, which it then transcodes instead; the loser stops. Nothing is persisted that could outlive its holder.
 *
 * A lease belongs to the API token that claimed it, not only to the holder's name: only that token renews or releases
 * it, and the slave's F2 admits only that token as the publisher of the camera while the lease runs (`publishers()`
 * feeds the media plane's access check, app/media/worker/rtsp-policy.ts). A claim by the same name with another token
 * is refused like any other holder's: a name is the compressor's word, the token is its credential.
 *
 * Each lease also has an RTSP credential of its own (`lease-<random>` and a random password), made when the lease is
 * acquired, kept while it is renewed and gone with it: the holder's ffmpeg reads the camera's F1 and publishes its F2
 * with it instead of the API token, so that a job's command line (readable by every local user) exposes one camera's
 * streams for as long as the lease runs, not the compressor's API token. The password lives only here, in memory, and
 * in the claim answer to its holder; the media plane gets its SHA-256 and Digest HA1 (`publishers()`).
 *
 * Expiry counts on the monotonic clock (performance.now): a wall-clock step (NTP, a manual change) must not expire
 * or extend every lease at once. `expiresAt` in answers is that deadline translated to wall time at the moment of
 * the answer, for display and for the holder's own scheduling.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CameraLease, LeaseRtspCredential } from '../defs/camera.js';
import type { EventBus } from '../events/bus.js';
import { digestHa1 } from '../media/rtsp/auth.js';

/** What the table needs: whether a camera exists, and the bus for lease events. */
export interface LeaseDeps {
  cameraExists(id: string): boolean;
  bus: Pick<EventBus, 'emit'>;
  /** Monotonic milliseconds; tests may pass their own. */
  now?: () => number;
  /** How often expired leases are looked for without a request touching them (ms). */
  sweepMs?: number;
}

/** Who claims: the holder's name and the id of the API token it authenticated with (its F2 credential). */
export interface LeaseClaimant {
  holder: string;
  tokenId: string;
}

/** How the media plane checks a lease's RTSP credential: the user, SHA-256 (base64url) of the password, Digest HA1. */
export interface LeaseRtspCheck {
  user: string;
  hash: string;
  ha1: string;
}

/** A running lease with the token that may publish the camera's F2, and the check of its own RTSP credential. */
export interface LeasePublisher {
  cameraId: string;
  holder: string;
  tokenId: string;
  rtsp: LeaseRtspCheck;
}

/** Why a claim or a release was refused. */
export type LeaseRefusal = { ok: false; reason: 'unknown-camera' } | { ok: false; reason: 'held'; lease: CameraLease };

/** The answer to a release. */
export type LeaseOutcome = { ok: true; lease: null } | LeaseRefusal;

/** The answer to a claim: a granted one carries the lease's RTSP credential (for its holder only: never log it). */
export type ClaimOutcome = { ok: true; lease: CameraLease; rtsp: LeaseRtspCredential } | LeaseRefusal;

interface Entry {
  holder: string;
  tokenId: string;
  ttlS: number;
  /** Monotonic ms. */
  deadline: number;
  rtsp: LeaseRtspCredential & LeaseRtspCheck;
}

/** A fresh credential for a new lease: 48 random bits of user name, 192 of password. */
function newCredential(): LeaseRtspCredential & LeaseRtspCheck {
  const user = `lease-${randomBytes(6).toString('hex')}`;
  const password = randomBytes(24).toString('base64url');
  const hash = createHash('sha256').update(password).digest('base64url');
  return { user, password, hash, ha1: digestHa1(user, password) };
}

/** The leases of one slave; start() arms the expiry sweep, stop() clears it and forgets every lease. */
export class LeaseTable {
  private readonly leases = new Map<string, Entry>();
  private sweep: NodeJS.Timeout | null = null;

  constructor(private readonly deps: LeaseDeps) {}

  /** Arms the sweep so that `lease.expired` is published even when nobody asks about the camera. */
  start(): void {
    this.sweep ??= setInterval(() => this.expire(), this.deps.sweepMs ?? 1000);
  }

  /** Clears the sweep and drops every lease (no events: the node is going away, holders will re-claim). */
  stop(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = null;
    this.leases.clear();
  }

  /**
   * Grants or renews `cameraId` for `who` unless another holder's (or another token's) lease is still running. A new
   * lease gets a new RTSP credential; a renewal keeps it.
   */
  claim(cameraId: string, who: LeaseClaimant, ttlS: number): ClaimOutcome {
    if (!this.deps.cameraExists(cameraId)) return { ok: false, reason: 'unknown-camera' };
    this.expire();
    const now = this.now();
    const cur = this.leases.get(cameraId);
    if (cur && !sameClaimant(cur, who)) return { ok: false, reason: 'held', lease: this.view(cameraId, cur, now) };
    const { holder, tokenId } = who;
    const entry: Entry = { holder, tokenId, ttlS, deadline: now + ttlS * 1000, rtsp: cur?.rtsp ?? newCredential() };
    this.leases.set(cameraId, entry);
    if (!cur) this.deps.bus.emit('lease.acquired', { cameraId, holder, ttlS });
    const { user, password } = entry.rtsp;
    return { ok: true, lease: this.view(cameraId, entry, now), rtsp: { user, password } };
  }

  /** Ends `who`'s lease of `cameraId`; releasing a camera nobody holds is a no-op (`lease: null`). */
  release(cameraId: string, who: LeaseClaimant): LeaseOutcome {
    if (!this.deps.cameraExists(cameraId)) return { ok: false, reason: 'unknown-camera' };
    this.expire();
    const cur = this.leases.get(cameraId);
    if (!cur) return { ok: true, lease: null };
    if (!sameClaimant(cur, who)) return { ok: false, reason: 'held', lease: this.view(cameraId, cur, this.now()) };
    this.leases.delete(cameraId);
    this.deps.bus.emit('lease.released', { cameraId, holder: cur.holder });
    return { ok: true, lease: null };
  }

  /** Every running lease, by camera id. */
  list(): CameraLease[] {
    this.expire();
    const now = this.now();
    return [...this.leases.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, e]) => this.view(id, e, now));
  }

  /**
   * Every lease with its token and the check of its RTSP credential (no password), by camera id: who may publish
   * each camera's F2. It changes only with a `lease.*` event (a renewal keeps holder, token and credential), so a listener of those events can push it on change. It does not
   * expire anything itself (a listener calls it while an expiry is being published): a lease past its deadline is
   * listed until the sweep (≤ sweepMs) or a request drops it.
   */
  publishers(): LeasePublisher[] {
    return [...this.leases.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([cameraId, e]) => {
        const { user, hash, ha1 } = e.rtsp;
        return { cameraId, holder: e.holder, tokenId: e.tokenId, rtsp: { user, hash, ha1 } };
      });
  }

  /** Drops leases whose deadline has passed, publishing `lease.expired` for each. */
  private expire(): void {
    const now = this.now();
    for (const [cameraId, e] of this.leases) {
      if (e.deadline > now) continue;
      this.leases.delete(cameraId);
      this.deps.bus.emit('lease.expired', { cameraId, holder: e.holder });
    }
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : performance.now();
  }

  private view(cameraId: string, e: Entry, now: number): CameraLease {
    const expiresAt = new Date(Date.now() + Math.max(0, e.deadline - now)).toISOString();
    return { cameraId, holder: e.holder, expiresAt, ttlS: e.ttlS };
  }
}

function sameClaimant(e: Entry, who: LeaseClaimant): boolean {
  return e.holder === who.holder && e.tokenId === who.tokenId;
}
