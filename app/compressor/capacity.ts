/**
 * Capacity-aware admission, as pure decisions over measurements (the pool feeds it and carries the decisions out).
 *
 * The question is not "how many cores" but "do all admitted jobs still run in real time": encoders differ by preset,
 * input size and scene, and a machine may be shared. So the pool admits one job at a time, lets it settle, and
 * admits the next only while every settled job runs at full speed and the machine has a job's worth of idle CPU.
 * A job's worth is the cost of the dearest settled job (settled jobs all run in real time, or nothing is admitted):
 * a job still settling has no cost to go by, and a cost read on a job that cannot keep up is what it got, not what
 * it needs. Next to settling jobs another is admitted only while the idle CPU, less that cost for each settling job,
 * is worth burstIdleJobs more (cameras of a dead compressor, taken over together, then start together instead of
 * one per settle time); with no settled job, a settling job blocks further admission.
 * When jobs fall below real time anyway (a busy scene, another process), the newest job is shed back to waiting,
 * the count that worked becomes a ceiling for a while, after which the pool probes upwards again; the next shed
 * waits until the speeds had a settle time to show the effect of the last one (they are measured over seconds).
 * Lowering maxJobs sheds the newest jobs down to it.
 */

/** What the policy needs to know about one admitted job. */
export interface RunningJob {
  id: string;
  admittedAt: number;
  /** Speed over the last seconds (SpeedMeter); null while not yet measurable. */
  speed: number | null;
  /** Since when the speed has been below the degraded threshold; null when it is not. */
  slowSince: number | null;
  /** CPU cores the job used over the last seconds; null while unknown. */
  cpuCores: number | null;
}

/** Tunables (config `compressor.capacity`). */
export interface CapacityOptions {
  maxJobs: number;
  /** A new job's speed is ignored this long (ffmpeg opens its input, then bursts). */
  settleMs: number;
  /** Below this for degradedAfterMs → degraded. */
  degradedSpeed: number;
  degradedAfterMs: number;
  /** Every settled job must be at least this fast for another to be admitted. */
  admitSpeed: number;
  /** How long a ceiling learnt from shedding holds before the pool tries one more job again. */
  ceilingHoldMs: number;
  /**
   * While jobs settle, another is admitted only if the idle cores, less a settled job's cost for each settling job,
   * are worth at least this many jobs. Costs come from settled jobs only: with none, a settling job blocks.
   */
  burstIdleJobs: number;
  /**
   * Idle cores needed to admit one more job next to settled ones, in multiples of a job's cost: more than one,
   * because jobs cost more together than alone (the compressor bench: ~4 real-time jobs per core by CPU alone,
   * 3 measured), and a probe that fails holds every job below real time until the newest is shed (~20 s).
   */
  admitIdleJobs: number;
  /**
   * Share of the machine's cores kept idle on top of that (at least MIN_RESERVE_CORES): room for scene changes,
   * which make x264 dearer for a while, and for the rest of the node. Without it, the last job admitted on a full
   * machine sat at 0.95 of real time while the pool's own figures still read 0.97.
   */
  reserveShare: number;
}

/** The smallest reserve, in cores, whatever reserveShare gives. */
export const MIN_RESERVE_CORES = 0.2;

/** Defaults that match the compressor issue's figures (0.97 for 10 s). */
export const DEFAULT_CAPACITY: CapacityOptions = {
  maxJobs: 16,
  settleMs: 8000,
  degradedSpeed: 0.97,
  degradedAfterMs: 10_000,
  admitSpeed: 0.99,
  ceilingHoldMs: 5 * 60_000,
  burstIdleJobs: 2,
  admitIdleJobs: 1.3,
  reserveShare: 0.1,
};

/** The policy's answer for this tick. */
export type Decision =
  { action: 'admit' } | { action: 'hold'; reason: string } | { action: 'shed'; id: string; reason: string };

/** The machine: idle CPU in cores over the last seconds (null while unknown), and its cores (no reserve if absent). */
export interface MachineLoad {
  idleCores: number | null;
  cores?: number;
}

/** See the file comment. Keeps the learnt ceiling and the time of the last shed between calls. */
export class CapacityPolicy {
  private ceiling: { jobs: number; until: number } | null = null;
  private lastShedAt: number | null = null;
  private opts: CapacityOptions;

  constructor(opts: CapacityOptions) {
    this.opts = { ...opts };
  }

  /** The tunables now. */
  options(): Readonly<CapacityOptions> {
    return this.opts;
  }

  /** Changes tunables (a config change); the learnt ceiling is kept. */
  update(change: Partial<CapacityOptions>): void {
    this.opts = { ...this.opts, ...change };
  }

  /** The ceiling learnt from the last shed, if it still holds. */
  currentCeiling(now: number): number | null {
    return this.ceiling && now < this.ceiling.until ? this.ceiling.jobs : null;
  }

  /** True when `job` counts as degraded now. */
  isDegraded(job: RunningJob, now: number): boolean {
    return job.slowSince !== null && now - job.slowSince >= this.opts.degradedAfterMs;
  }

  /** What to do now, given the admitted jobs, whether any job waits, and the machine's load. */
  decide(running: RunningJob[], waiting: boolean, machine: MachineLoad, now: number): Decision {
    const o = this.opts;
    const newest = () => running.reduce((a, b) => (b.admittedAt > a.admittedAt ? b : a));
    if (running.length > o.maxJobs) return { action: 'shed', id: newest().id, reason: `max ${o.maxJobs} jobs` };
    const degraded = running.filter((j) => this.isDegraded(j, now));
    const shedRecently = this.lastShedAt !== null && now - this.lastShedAt < o.settleMs;
    if (degraded.length > 0 && running.length > 1 && !shedRecently) {
      this.ceiling = { jobs: running.length - 1, until: now + o.ceilingHoldMs };
      this.lastShedAt = now;
      return { action: 'shed', id: newest().id, reason: `${degraded.length} job(s) below speed ${o.degradedSpeed}` };
    }
    if (!waiting) return { action: 'hold', reason: 'nothing waits' };
    if (running.length >= o.maxJobs) return { action: 'hold', reason: `max ${o.maxJobs} jobs` };
    const ceiling = this.currentCeiling(now);
    if (ceiling !== null && running.length >= ceiling) {
      return { action: 'hold', reason: `${ceiling} jobs is what this machine carried in real time` };
    }
    if (running.length === 0) return { action: 'admit' };
    if (degraded.length > 0) return { action: 'hold', reason: `${degraded.length} job(s) degraded` };
    const settling = running.filter((j) => now - j.admittedAt < o.settleMs || j.speed === null);
    const settled = running.filter((j) => !settling.includes(j));
    const slow = settled.filter((j) => (j.speed ?? 0) < o.admitSpeed);
    if (slow.length > 0) return { action: 'hold', reason: `${slow.length} job(s) below speed ${o.admitSpeed}` };
    // Every settled job runs in real time here, so its cost is what a job of its kind needs.
    const costs = settled.map((j) => j.cpuCores).filter((c): c is number => c !== null);
    const perJob = costs.length > 0 ? Math.max(...costs) : null;
    const reserve = machine.cores === undefined ? 0 : Math.max(MIN_RESERVE_CORES, machine.cores * o.reserveShare);
    const idle = machine.idleCores === null ? null : machine.idleCores - reserve;
    if (settling.length > 0) {
      if (perJob === null || idle === null) return { action: 'hold', reason: 'a job is settling' };
      const left = idle - settling.length * perJob;
      return left >= perJob * o.burstIdleJobs ? { action: 'admit' } : { action: 'hold', reason: 'a job is settling' };
    }
    if (perJob !== null && idle !== null && idle < perJob * o.admitIdleJobs) {
      const need = `${o.admitIdleJobs} × a job's ${perJob.toFixed(2)}`;
      const kept = reserve > 0 ? ` (${reserve.toFixed(2)} more kept in reserve)` : '';
      return { action: 'hold', reason: `${idle.toFixed(2)} idle cores < ${need}${kept}` };
    }
    return { action: 'admit' };
  }
}
