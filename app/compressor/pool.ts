/**
 * The transcoding pool: one supervised ffmpeg per wanted job, admitted by CapacityPolicy, watched every second for
 * speed and CPU. It knows nothing of slaves, leases or presets: the role hands it job definitions (argv included)
 * and parks jobs whose camera went away. The Supervisor does restarts, backoff and stall kills; the pool adds what
 * only it can see: speed below real time, waiting for capacity, and the fall-back from a failing hardware encoder.
 *
 * Measurements are taken so that noise does not pass for capacity: each -progress block is timed when it arrives
 * (`progress`), not when the timer reads it (ffmpeg reports every ~0.5 s, and a block up to 0.5 s old read on a
 * 1 s timer makes a steady job swing between 0.93 and 1.04 over a 5 s window); idle CPU and each job's CPU are the
 * mean of the last CPU_WINDOW timer samples, since the policy asks every second and a one-second reading that
 * happens to be high would admit a job the machine cannot carry.
 *
 * This file is the loop (want/park, admission, observation, launch, fall-back); a job's record, its API view and the
 * sample helpers are in pool-job.ts.
 */
import type { Logger } from '../log/logger.js';
import type { ChildSpec, SupervisedChild } from '../supervisor/types.js';
import { CapacityPolicy, type CapacityOptions } from './capacity.js';
import { CpuSampler } from './cpu.js';
import { withoutCredentials } from './ffmpeg-args.js';
import type { ChildProgress } from '../defs/child.js';
import type { JobDefinition, JobState, JobView } from '../defs/job.js';
import { childName, jobIdOf, jobView, lastError, mean, newJob, pushSample, runningJob, type Job } from './pool-job.js';

/** What the pool needs from the Supervisor. */
export interface PoolSpawner {
  spawn(spec: ChildSpec): SupervisedChild;
  remove(name: string): Promise<void>;
}

/** What the pool is built from. */
export interface PoolDeps {
  supervisor: PoolSpawner;
  ffmpeg: string;
  capacity: CapacityOptions;
  /** Silence after which the Supervisor kills and restarts a job's ffmpeg. */
  stallTimeoutMs: number;
  log: Logger;
  /** Called on every state change of a job. */
  onState(job: JobView, previous: JobState | null): void;
  /**
   * Subscribes to every -progress block of the Supervisor's children as it arrives (its `child.progress` events);
   * returns the unsubscribe function. Without it, progress is read on the 1 s timer (up to 0.5 s stale).
   */
  progress?: (listener: (child: string, block: ChildProgress) => void) => () => void;
  cpu?: CpuSampler;
  now?: () => number;
}

const TICK_MS = 1000;
/** Failed starts without a frame after which a hardware encoder is given up for the software one. */
const HW_DEAD_STARTS = 2;

/** See the file comment. */
export class TranscodePool {
  private readonly jobs = new Map<string, Job>();
  private readonly policy: CapacityPolicy;
  private readonly cpu: CpuSampler;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastHold: string | null = null;
  /** Idle cores of the last timer ticks, the newest last (at most CPU_WINDOW). */
  private readonly idleSamples: number[] = [];
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: PoolDeps) {
    this.policy = new CapacityPolicy(deps.capacity);
    this.cpu = deps.cpu ?? new CpuSampler();
    this.now = deps.now ?? (() => performance.now());
  }

  /** Starts the once-a-second evaluation. */
  start(): void {
    this.timer ??= setInterval(() => this.tick(true), TICK_MS);
    this.unsubscribe ??= this.deps.progress?.((child, block) => this.onProgress(child, block)) ?? null;
  }

  /** Changes the most jobs run at once (compressor.maxJobs): the newest jobs above it go back to waiting. */
  setMaxJobs(maxJobs: number): void {
    if (this.policy.options().maxJobs === maxJobs) return;
    this.policy.update({ maxJobs });
    this.tick();
  }

  /** Stops every job's ffmpeg and the timer; resolves when no child is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.all([...this.jobs.values()].map((j) => this.stopChild(j)));
  }

  /**
   * Adds or updates a wanted job; a running job whose argv changed is restarted with the new one. A change of the URL
   * credentials alone (a lease's new RTSP credential) restarts nothing: the ffmpeg that runs stays admitted, and its
   * next start, by the Supervisor or the pool, uses the new argv (see launch()).
   */
  want(def: JobDefinition): void {
    const job = this.jobs.get(def.id);
    if (!job) {
      this.jobs.set(def.id, newJob(def));
      this.setState(this.jobs.get(def.id)!, 'waiting-for-capacity', 'queued');
    } else {
      const changed = JSON.stringify(comparable(job.def)) !== JSON.stringify(comparable(def));
      job.def = def;
      job.wanted = true;
      if (changed) {
        job.useFallback = false;
        job.fallbackReason = null;
        if (job.child) void this.requeue(job, 'definition changed');
      }
      // A job that already waits keeps saying why (a config change wants every job again).
      if (!job.child && job.state !== 'waiting-for-capacity') this.setState(job, 'waiting-for-capacity', 'queued');
    }
    this.tick();
  }

  /** The job is not wanted now (camera offline, lease lost): its ffmpeg stops, the job stays listed as parked. */
  park(id: string, reason: string): void {
    const job = this.jobs.get(id);
    if (!job) return;
    job.wanted = false;
    void this.stopChild(job);
    this.setState(job, 'parked', reason);
    this.tick();
  }

  /** Forgets a job (its camera was deleted or the slave removed). */
  async remove(id: string): Promise<void> {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    await this.stopChild(job);
  }

  /** Restarts a job's ffmpeg now (API); false when the job is unknown or not running. */
  async restart(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job?.child) return false;
    const { def } = job;
    await this.stopChild(job);
    this.launch(job, def);
    return true;
  }

  /** Every job, for the API. */
  list(): JobView[] {
    return [...this.jobs.values()].map((j) => jobView(j, this.now()));
  }

  /** One job, for the API. */
  get(id: string): JobView | undefined {
    const job = this.jobs.get(id);
    return job && jobView(job, this.now());
  }

  /**
   * On the timer (`sample`): measures CPU and speeds and updates states. Then admits jobs while the policy says so
   * (each admitted job counts as settling for the next decision), or sheds one. CPU is measured on the timer only:
   * /proc counts in 10 ms ticks, so a window of a few ms (a want() right after a tick) reads as 0 or all cores.
   */
  private tick(sample = false): void {
    if (this.stopped) return;
    const now = this.now();
    if (sample) {
      pushSample(this.idleSamples, this.cpu.idleCores());
      const pids = new Set<number>();
      for (const job of this.jobs.values()) if (job.child) this.observe(job, now, pids);
      this.cpu.retain(pids); // a pid number of an ended job may come back as another process
    }
    // Each admitted job counts as settling in the next decision; the loop ends at the first hold or shed.
    for (let admitted = 0; admitted <= this.jobs.size; admitted++) {
      const running = [...this.jobs.values()].filter((j) => j.child !== null);
      const waiting = [...this.jobs.values()].filter((j) => j.wanted && !j.child && !j.stopping);
      const decision = this.policy.decide(
        running.map((j) => runningJob(j, now)),
        waiting.length > 0,
        { idleCores: mean(this.idleSamples), cores: this.cpu.cores },
        now,
      );
      if (decision.action === 'admit') {
        this.launch(waiting[0]!, waiting[0]!.def);
        continue;
      }
      if (admitted > 0) this.lastHold = null;
      if (decision.action === 'shed') {
        const job = this.jobs.get(decision.id);
        if (job) void this.requeue(job, `shed: ${decision.reason}`);
      } else if (waiting.length > 0) {
        // Every waiting job says why, also one queued since the reason was logged; the log says it once.
        if (decision.reason !== this.lastHold) {
          this.deps.log.info({ waiting: waiting.length, reason: decision.reason }, 'jobs wait for capacity');
        }
        for (const job of waiting) job.reason = decision.reason;
      }
      this.lastHold = decision.action === 'hold' ? decision.reason : null;
      return;
    }
  }

  private observe(job: Job, now: number, pids: Set<number>): void {
    const status = job.child!.status();
    const progress = status.progress;
    if (status.pid) {
      pids.add(status.pid);
      pushSample(job.cpuSamples, this.cpu.processCores(status.pid));
    }
    if (status.restarts !== job.lastRestarts) {
      job.lastRestarts = status.restarts;
      job.meter.reset();
      job.cpuSamples.length = 0;
      job.slowSince = null;
      const noFrame = !progress?.frame;
      if (noFrame) job.deadStarts++;
      if (noFrame && job.def.fallback && !job.useFallback && job.deadStarts >= HW_DEAD_STARTS) {
        return this.fallBack(job);
      }
    }
    if (status.state === 'gave-up') return this.setState(job, 'failed', lastError(job.child!) ?? 'gave up');
    if (status.state !== 'running' || !progress?.frame) {
      return this.setState(job, 'starting', status.state === 'backoff' ? 'restarting after an exit' : null);
    }
    job.deadStarts = 0;
    if (!this.deps.progress && progress.outTimeMs !== undefined) job.meter.add(progress.outTimeMs, now);
    const speed = job.meter.speed(now);
    const settled = now - job.admittedAt >= this.deps.capacity.settleMs;
    if (settled && speed !== null && speed < this.deps.capacity.degradedSpeed) job.slowSince ??= now;
    else if (speed !== null && speed >= this.deps.capacity.degradedSpeed) job.slowSince = null;
    const degraded = this.policy.isDegraded(runningJob(job, now), now);
    this.setState(job, degraded ? 'degraded' : 'running', degraded ? `speed ${speed?.toFixed(2)}` : null);
  }

  /** A -progress block as it arrives: timed now, for the speed meter of its job. */
  private onProgress(child: string, block: ChildProgress): void {
    const id = jobIdOf(child);
    const job = id === null ? undefined : this.jobs.get(id);
    if (!job?.child || job.child.name !== child || !block.frame || block.outTimeMs === undefined) return;
    job.meter.add(block.outTimeMs, this.now());
  }

  private launch(job: Job, def: JobDefinition): void {
    const fallback = job.useFallback && def.fallback !== undefined;
    const variant = fallback && def.fallback ? def.fallback : { encoder: def.encoder, args: def.args };
    try {
      job.child = this.deps.supervisor.spawn({
        name: childName(def.id),
        kind: 'ffmpeg',
        command: this.deps.ffmpeg,
        // The Supervisor reads the spec's args at every (re)start: each start takes the job's current definition, so
        // that new URL credentials (want()) are used by the next restart of this ffmpeg, not only by a new job.
        get args() {
          const d = job.def;
          return fallback && d.fallback ? d.fallback.args : d.args;
        },
        progress: true,
        stallTimeoutMs: this.deps.stallTimeoutMs,
        restart: 'always',
      });
    } catch (err) {
      // The Supervisor is stopping, or refuses the spec: a job state, never an exception in a timer.
      job.wanted = false;
      return this.setState(job, 'failed', `cannot start: ${err instanceof Error ? err.message : String(err)}`);
    }
    job.admittedAt = this.now();
    job.lastRestarts = 0;
    job.meter.reset();
    job.cpuSamples.length = 0;
    job.slowSince = null;
    this.setState(job, 'starting', `admitted with ${variant.encoder}`);
  }

  private fallBack(job: Job): void {
    const reason = lastError(job.child!, job.def.encoder) ?? `${job.def.encoder} produced no frame`;
    job.useFallback = true;
    job.fallbackReason = reason;
    this.deps.log.warn({ job: job.def.id, encoder: job.def.encoder, reason }, 'hardware encoder failed: software');
    // Back to the queue: admitted again (in software) once its old ffmpeg is gone.
    void this.requeue(job, `${job.def.encoder} failed; falling back to ${job.def.fallback?.encoder}`);
  }

  private async requeue(job: Job, reason: string): Promise<void> {
    if (job.wanted) this.setState(job, 'waiting-for-capacity', reason);
    await this.stopChild(job);
  }

  private async stopChild(job: Job): Promise<void> {
    const child = job.child;
    job.child = null;
    job.meter.reset();
    job.slowSince = null;
    job.cpuSamples.length = 0;
    if (!child) return;
    job.stopping = true;
    try {
      await this.deps.supervisor.remove(child.name);
    } finally {
      job.stopping = false;
    }
  }

  private setState(job: Job, state: JobState, reason: string | null): void {
    const previous = job.state;
    if (previous === state && (reason === null || reason === job.reason)) return;
    job.state = state;
    if (reason !== null || previous !== state) job.reason = reason;
    if (previous !== state) this.deps.onState(jobView(job, this.now()), previous);
  }
}

/** A definition with the credentials of its URLs taken out: what decides whether a running job must restart. */
function comparable(def: JobDefinition): JobDefinition {
  const { fallback } = def;
  return {
    ...def,
    args: withoutCredentials(def.args),
    ...(fallback && { fallback: { ...fallback, args: withoutCredentials(fallback.args) } }),
  };
}
