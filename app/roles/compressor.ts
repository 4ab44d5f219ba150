/**
 * The compressor role: follows each configured slave (SlaveClient), claims a lease on every camera whose F1 is
 * online, and runs a transcoding job for each camera it holds (TranscodePool). Jobs of cameras whose F1 went offline,
 * or whose lease another compressor holds, are parked, not restarted in a loop; a lease that expires because its
 * holder died is claimed as it runs out, which is how a second compressor takes cameras over. New cameras go to the
 * least loaded compressor of a slave (the claim stagger).
 *
 * A job's ffmpeg reads F1 and publishes F2 with its lease's own RTSP credential (from the claim answer), not the API
 * token: its command line is readable by every local user. A lease lost and acquired again (a slave restart, an expiry
 * while the slave was out of reach) comes with a new credential; the job's definition then changes its URLs only,
 * which the pool applies at the next start of the ffmpeg without restarting a running one (see TranscodePool.want).
 */
import type { Config } from '../config/schema.js';
import { TranscodePool, type PoolSpawner } from '../compressor/pool.js';
import { jobArgs, withCredentials } from '../compressor/ffmpeg-args.js';
import { chooseEncoder, presetForCamera, softwareEncoder } from '../compressor/presets.js';
import { SlaveClient, type LeaseRtsp, type SlaveEndpoint } from '../cluster/slave-client.js';
import type { JobDefinition, JobView } from '../defs/job.js';
import type { SlavePeerState } from '../defs/peer.js';
import type { EventBus } from '../events/bus.js';
import { probeEncoders, type EncoderReport } from '../ffmpeg/encoders.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_CAPACITY } from '../compressor/capacity.js';

/** What the role is built from. */
export interface CompressorDeps {
  /** The current config (read again on reconfigure). */
  config: () => Config;
  supervisor: PoolSpawner;
  bus: EventBus;
  log: Logger;
  /** Resolves the ffmpeg binary (throws when there is none: a compressor cannot start without it). */
  ffmpeg: () => string;
}

/**
 * Lease timing: a dead compressor's cameras are free after TTL, and claimed right when the lease runs out (see
 * claimAtExpiry), so that the job of a camera taken over starts at most TTL after its holder died.
 */
const LEASE_TTL_S = 6;
const ROUND_MS = 2000;
/**
 * A camera that comes online is claimed after this delay per camera this compressor already holds (at most
 * CLAIM_STAGGER_MAX_MS): when several compressors follow one slave, the least loaded one takes it, instead of
 * whichever asked first taking every camera. Cameras we held until a moment ago (F1 flapped) are claimed at once.
 */
const CLAIM_STAGGER_MS = 500;
const CLAIM_STAGGER_MAX_MS = 3000;
/** How long a dropped camera counts as ours for the stagger. */
const RECENTLY_HELD_MS = 60_000;

interface Link {
  endpoint: SlaveEndpoint;
  client: SlaveClient;
  offs: Array<() => void>;
  ports: { f1Port: number; f2Port: number } | null;
}

interface Claim {
  slave: string;
  camera: string;
  /** performance.now() of the last granted claim; null until one. */
  grantedAt: number | null;
  /** performance.now() before which the first claim is not made (the stagger). */
  notBefore: number;
  /** The RTSP credential of the lease, from the last granted claim (null: the slave gave none). Never logged. */
  rtsp: LeaseRtsp | null;
}

/** See the file comment. */
export class CompressorRole {
  private readonly links = new Map<string, Link>();
  /** Cameras whose F1 is online, by job id (`<slave>/<camera>`): the ones we want to transcode. */
  private readonly wanted = new Map<string, Claim>();
  private pool: TranscodePool | null = null;
  private encoders: EncoderReport | null = null;
  private probing: Promise<EncoderReport> | null = null;
  private ffmpeg = '';
  private timer: NodeJS.Timeout | null = null;
  /** One-shot claims (staggered, or at a lease's expiry). */
  private readonly later = new Set<NodeJS.Timeout>();
  /** Cameras we held, by job id → performance.now() when they were dropped. */
  private readonly recentlyHeld = new Map<string, number>();
  private round: Promise<void> = Promise.resolve();

  constructor(private readonly deps: CompressorDeps) {}

  private makePool(ffmpeg: string): TranscodePool {
    const { deps } = this;
    const c = deps.config();
    return new TranscodePool({
      supervisor: deps.supervisor,
      ffmpeg,
      capacity: { ...DEFAULT_CAPACITY, maxJobs: c.compressor.maxJobs },
      stallTimeoutMs: Math.max(c.supervisor.stallTimeoutMs, 5000),
      log: deps.log.child({ component: 'pool' }),
      progress: (listener) => deps.bus.on('child.progress', (e) => listener(e.data.name, e.data.progress)),
      onState: (job, previous) =>
        deps.bus.emit('job.state', {
          id: job.id,
          slave: job.slave,
          camera: job.camera,
          state: job.state,
          previous,
          reason: job.reason,
        }),
    });
  }

  /** The holder name of our leases: the node name (unique among a site's compressors by convention). */
  private get holder(): string {
    return this.deps.config().node.name;
  }

  /** Follows every slave (a slave that is down does not hold the start up); encoders are probed once there are slaves. */
  async start(): Promise<void> {
    this.ffmpeg = this.deps.ffmpeg();
    this.pool = this.makePool(this.ffmpeg);
    this.pool.start();
    this.reconcileLinks();
    this.timer = setInterval(() => {
      this.round = this.round.then(() => this.renewAll());
    }, ROUND_MS);
  }

  /** Stops following the slaves, stops every job and releases our leases (best effort). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.later) clearTimeout(t);
    this.later.clear();
    await this.round;
    await this.pool?.stop();
    this.pool = null;
    await Promise.all(
      [...this.wanted.values()]
        .filter((c) => c.grantedAt !== null)
        .map((c) => this.links.get(c.slave)?.client.release(c.camera, this.holder)),
    );
    this.wanted.clear();
    for (const link of this.links.values()) await this.unlink(link);
    // Its trial encodes are one-shot children with their own timeout: none may outlive the role.
    await this.probing?.catch(() => undefined);
    this.links.clear();
  }

  /**
   * The config changed (slaves, presets, camera presets, maxJobs): re-links, rebuilds jobs and passes maxJobs to the
   * pool; unchanged jobs keep running.
   */
  reconfigure(): void {
    this.pool?.setMaxJobs(this.deps.config().compressor.maxJobs);
    this.reconcileLinks();
    for (const [id, claim] of this.wanted) if (claim.grantedAt !== null) this.run(id, claim);
  }

  /** Every job, for the API. */
  jobs(): JobView[] {
    return this.pool?.list() ?? [];
  }

  /** One job. */
  job(id: string): JobView | undefined {
    return this.pool?.get(id);
  }

  /** Restarts a job's ffmpeg; false when it is not running. */
  async restart(id: string): Promise<boolean> {
    return (await this.pool?.restart(id)) ?? false;
  }

  /** The encoder probe's result (null before start). */
  encoderReport(): EncoderReport | null {
    return this.encoders;
  }

  /** The link to every slave. */
  peers(): SlavePeerState[] {
    return [...this.links.values()].map((l) => l.client.state);
  }

  /**
   * The encoder probe (~2 s of trial encodes), run once and only when there is something to compress: a node with
   * the compressor role but no slaves (the `all` role of a lone box) never pays for it.
   */
  private probe(): Promise<EncoderReport> {
    this.probing ??= probeEncoders({
      ffmpegPath: this.ffmpeg,
      hardware: this.deps.config().compressor.hardware === 'auto',
    }).then((report) => {
      const usable = report.hardware.filter((h) => h.usable).map((h) => h.name);
      this.deps.log.info({ software: report.software, hardware: usable }, 'encoders probed');
      return (this.encoders = report);
    });
    return this.probing;
  }

  private reconcileLinks(): void {
    const slaves = this.deps.config().compressor.slaves.map((s) => ({ ...s, name: s.name ?? new URL(s.url).host }));
    if (slaves.length > 0) void this.probe();
    for (const [name, link] of this.links) {
      const next = slaves.find((s) => s.name === name);
      if (next && next.url === link.endpoint.url && next.token === link.endpoint.token) continue;
      this.links.delete(name);
      for (const [id, claim] of this.wanted) if (claim.slave === name) this.drop(id, 'slave removed from config');
      void this.unlink(link);
    }
    for (const s of slaves) {
      if (this.links.has(s.name)) continue;
      const endpoint: SlaveEndpoint = { name: s.name, url: s.url, token: s.token };
      const client = new SlaveClient(endpoint, { log: this.deps.log.child({ component: 'slave-link' }) });
      const link: Link = { endpoint, client, offs: [], ports: null };
      link.offs.push(
        client.on('f1-online', (camera) => this.online(s.name, camera)),
        client.on('f1-offline', (camera) => this.drop(`${s.name}/${camera}`, 'F1 offline')),
        client.on('state', (state) => {
          if (state.state === 'online') link.ports = null; // ports may have changed with a slave restart
          this.deps.bus.emit('peer.state', {
            name: state.name,
            url: state.url,
            state: state.state,
            error: state.lastError,
          });
        }),
      );
      this.links.set(s.name, link);
      void client.start();
    }
  }

  private async unlink(link: Link): Promise<void> {
    for (const off of link.offs.splice(0)) off();
    await link.client.stop();
  }

  private online(slave: string, camera: string): void {
    const id = `${slave}/${camera}`;
    const now = performance.now();
    for (const [old, at] of this.recentlyHeld) if (now - at > RECENTLY_HELD_MS) this.recentlyHeld.delete(old);
    let delay = 0;
    if (!this.recentlyHeld.has(id)) {
      const held = [...this.wanted.values()].filter((c) => c.grantedAt !== null).length;
      delay = Math.min(held * CLAIM_STAGGER_MS, CLAIM_STAGGER_MAX_MS);
    }
    if (!this.wanted.has(id))
      this.wanted.set(id, { slave, camera, grantedAt: null, notBefore: now + delay, rtsp: null });
    if (delay === 0) this.round = this.round.then(() => this.renew(id));
    else this.renewLater(id, delay);
  }

  /** Claims `id` in `ms` (on the round chain, so never at the same time as a round). */
  private renewLater(id: string, ms: number): void {
    const timer = setTimeout(() => {
      this.later.delete(timer);
      this.round = this.round.then(() => this.renew(id));
    }, ms);
    this.later.add(timer);
  }

  /**
   * Another compressor holds `id` until `expiresAt`. A live holder renews every ROUND_MS for LEASE_TTL_S, so its
   * lease never comes within ROUND_MS of its end; one that does has stopped renewing (it died, or lost the slave),
   * and the camera is claimed right after the expiry instead of at our next round, up to ROUND_MS later.
   * `expiresAt` is the slave's wall clock: with a skewed clock this only adds or skips one claim.
   */
  private claimAtExpiry(id: string, expiresAt: string): void {
    const left = Date.parse(expiresAt) - Date.now();
    if (left >= 0 && left < ROUND_MS) this.renewLater(id, left + 50);
  }

  private drop(id: string, reason: string): void {
    const claim = this.wanted.get(id);
    if (!claim) return;
    this.wanted.delete(id);
    this.pool?.park(id, reason);
    if (claim.grantedAt === null) return;
    this.recentlyHeld.set(id, performance.now());
    void this.links.get(claim.slave)?.client.release(claim.camera, this.holder);
  }

  private async renewAll(): Promise<void> {
    await Promise.all([...this.wanted.keys()].map((id) => this.renew(id)));
  }

  /** Claims or renews one camera's lease and starts, keeps or parks its job accordingly. */
  private async renew(id: string): Promise<void> {
    const claim = this.wanted.get(id);
    const link = claim && this.links.get(claim.slave);
    if (!claim || !link) return;
    if (claim.grantedAt === null && performance.now() < claim.notBefore) return; // staggered: see online()
    const result = await link.client.claim(claim.camera, this.holder, LEASE_TTL_S);
    if (this.wanted.get(id) !== claim) return; // dropped while we waited
    if (result.result === 'granted') {
      const first = claim.grantedAt === null;
      const moved = result.rtsp?.user !== claim.rtsp?.user || result.rtsp?.password !== claim.rtsp?.password;
      claim.grantedAt = performance.now();
      claim.rtsp = result.rtsp;
      // A new credential on a renewal: the slave lost the lease and granted it again (e.g. it restarted).
      if (first || moved) await this.run(id, claim);
    } else if (result.result === 'held') {
      if (claim.grantedAt !== null) this.pool?.park(id, `lease taken by ${result.heldBy}`);
      else this.pool?.park(id, `transcoded by ${result.heldBy}`);
      claim.grantedAt = null;
      this.claimAtExpiry(id, result.expiresAt);
    } else if (claim.grantedAt !== null && performance.now() - claim.grantedAt > LEASE_TTL_S * 1000) {
      // Our lease has run out without a renewal (slave unreachable): another compressor may hold it by now.
      claim.grantedAt = null;
      this.pool?.park(id, `lease not renewed: ${result.result === 'error' ? result.message : result.result}`);
    }
  }

  /** Defines (or redefines) the job of a camera we hold. */
  private async run(id: string, claim: Claim): Promise<void> {
    const link = this.links.get(claim.slave);
    if (!link) return;
    await this.probe();
    link.ports ??= await link.client.mediaPorts();
    if (!link.ports) {
      claim.grantedAt = null; // try again next round
      return;
    }
    this.pool?.want(this.define(link, claim, link.ports));
  }

  private define(link: Link, claim: Claim, ports: { f1Port: number; f2Port: number }): JobDefinition {
    const { camera } = claim;
    const c = this.deps.config();
    const { name: preset, preset: p } = presetForCamera(c.compressor, camera);
    const host = new URL(link.endpoint.url).hostname;
    const url = (port: number) => `rtsp://${host}:${port}/${camera}`;
    const token = link.endpoint.token;
    // The lease's credential; from a slave that gives none, the API token, whose id is the RTSP user (Digest needs it
    // to find the token; Basic would take any name).
    const cred = claim.rtsp ?? { user: token.slice(4, 16), password: token };
    const secret = (u: string) => withCredentials(u, cred.user, cred.password);
    const io = { f1Url: secret(url(ports.f1Port)), f2Url: secret(url(ports.f2Port)) };
    const base = { id: `${link.endpoint.name}/${camera}`, slave: link.endpoint.name, camera, preset };
    const input = { url: url(ports.f1Port), codec: null, width: null, height: null };
    if (p.codec === 'copy') {
      const output = { url: url(ports.f2Port), codec: 'copy', width: null, height: null };
      return { ...base, encoder: 'copy', args: jobArgs({ preset: p, encoder: 'copy', ...io }), input, output };
    }
    const choice = chooseEncoder(p, this.encoders ?? undefined);
    const output = { url: url(ports.f2Port), codec: p.codec, width: null, height: p.height };
    const software = softwareEncoder(p.codec);
    return {
      ...base,
      encoder: choice.encoder,
      args: jobArgs({ preset: p, encoder: choice.encoder, ...io }),
      ...(choice.note !== undefined && { encoderNote: choice.note }),
      ...(choice.hardware && {
        fallback: { encoder: software, args: jobArgs({ preset: p, encoder: software, ...io }) },
      }),
      input,
      output,
    };
  }
}
