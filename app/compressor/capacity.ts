/**
 * Capacity-aware admission, as pure decisions over measurements (the pool feeds it and carries the decisions out).
 *
 * The question is not "how many cores" but "do all admitted jobs still run in real time": encoders differ by preset,
 * input size and scene, and a machine may be shared. So the pool admits one job at a time, lets it settle, and
 * admits the next only while every settled job runs at full speed and the machine has a job's worth of idle CPU.
 * Next to settling jobs it admits more only while the idle CPU clearly allows (burstIdleJobs): the cameras of a dead
 * compressor, taken over together, then start together instead of one per settle time.
 * When jobs fall below real time anyway (a busy scene, another process), the newest job is shed back to waiting and
 * the count that worked becomes a ceiling for a while, after which the pool probes upwards again.
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
}

/** Defaults that match the compressor issue's figures (0.97 for 10 s). */
export const DEFAULT_CAPACITY: CapacityOptions = {
  maxJobs: 16,
  settleMs: 8000,
  degradedSpeed: 0.97,
  degradedAfterMs: 10_000,
  admitSpeed: 0.99,
  ceilingHoldMs: 5 * 60_000,
  burstIdleJobs: 2,
};

/** The policy's answer for this tick. */
export type Decision =
  { action: 'admit' } | { action: 'hold'; reason: string } | { action: 'shed'; id: string; reason: string };

/** The machine: idle CPU in cores over the last seconds (null while unknown). */
export interface MachineLoad {
  idleCores: number | null;
}

/** See the file comment. Keeps the learnt ceiling between calls. */
export class CapacityPolicy {
  private ceiling: { jobs: number; until: number } | null = null;

  constructor(private readonly opts: CapacityOptions) {}

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
    const degraded = running.filter((j) => this.isDegraded(j, now));
    if (degraded.length > 0 && running.length > 1) {
      const newest = running.reduce((a, b) => (b.admittedAt > a.admittedAt ? b : a));
      this.ceiling = { jobs: running.length - 1, until: now + o.ceilingHoldMs };
      return { action: 'shed', id: newest.id, reason: `${degraded.length} job(s) below speed ${o.degradedSpeed}` };
    }
    if (!waiting) return { action: 'hold', reason: 'nothing waits' };
    if (running.length >= o.maxJobs) return { action: 'hold', reason: `max ${o.maxJobs} jobs` };
    const ceiling = this.currentCeiling(now);
    if (ceiling !== null && running.length >= ceiling) {
      return { action: 'hold', reason: `${ceiling} jobs is what this machine carried in real time` };
    }
    if (running.length === 0) return { action: 'admit' };
    const settling = running.filter((j) => now - j.admittedAt < o.settleMs || j.speed === null);
    const settled = running.filter((j) => !settling.includes(j));
    const slow = settled.filter((j) => (j.speed ?? 0) < o.admitSpeed);
    if (slow.length > 0) return { action: 'hold', reason: `${slow.length} job(s) below speed ${o.admitSpeed}` };
    const costs = settled.map((j) => j.cpuCores).filter((c): c is number => c !== null);
    const perJob = costs.length > 0 ? costs.reduce((a, b) => a + b, 0) / costs.length : null;
    if (settling.length > 0) {
      const idle = machine.idleCores;
      const clear = perJob !== null && idle !== null && idle - settling.length * perJob >= perJob * o.burstIdleJobs;
      return clear ? { action: 'admit' } : { action: 'hold', reason: 'a job is settling' };
    }
    if (perJob !== null && machine.idleCores !== null && machine.idleCores < perJob * 1.1) {
      return {
        action: 'hold',
        reason: `${machine.idleCores.toFixed(2)} idle cores < one job's ${perJob.toFixed(2)} (+10 %)`,
      };
    }
    return { action: 'admit' };
  }
}
