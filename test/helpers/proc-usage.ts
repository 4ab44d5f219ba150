/** CPU and memory of another process read from /proc (stat and status), sampled over time for test figures. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Scope } from './core.js';

/** One reading of a process. */
export interface ProcReading {
  /** ms (performance.now()) at which it was read. */
  at: number;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  /** VmRSS in bytes. */
  rssBytes: number;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux as built). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = out > 0 ? out : 100;
  }
  return ticksPerSecond;
}

/** Reads `pid` once; undefined when it is gone. */
export function readUsage(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after "(comm)": state is [0], so utime (field 14) is [11] and stime (15) is [12].
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    return { at: performance.now(), cpuTicks, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** What a sampler saw. */
export interface UsageSummary {
  samples: ProcReading[];
  /** RSS at the first sample, the peak, the last, in MB. */
  baselineRssMb: number;
  maxRssMb: number;
  lastRssMb: number;
  /** CPU over the whole sampling, in % of one core, and the highest one-interval figure. */
  cpuPercent: number;
  maxCpuPercent: number;
  /** True when the process vanished (or changed) while sampled. */
  lost: boolean;
}

/** Samples `pid` every `everyMs` until stop() (at the latest in `after`). */
export function sampleUsage(
  scope: Scope,
  pid: number,
  everyMs = 1000,
): { stop(): UsageSummary; current(): UsageSummary } {
  const first = readUsage(pid);
  if (!first) throw new Error(`process ${pid} is not there to sample`);
  const samples: ProcReading[] = [first];
  let lost = false;
  const timer = setInterval(() => {
    const r = readUsage(pid);
    if (r) samples.push(r);
    else lost = true;
  }, everyMs);
  scope.after(() => clearInterval(timer));
  const summary = (): UsageSummary => {
    const mb = (b: number) => b / 1024 / 1024;
    const hz = clockTicks();
    const pct = (a: ProcReading, b: ProcReading) =>
      b.at > a.at ? ((b.cpuTicks - a.cpuTicks) / hz / ((b.at - a.at) / 1000)) * 100 : 0;
    const last = samples[samples.length - 1]!;
    let maxCpuPercent = 0;
    for (let i = 1; i < samples.length; i++) maxCpuPercent = Math.max(maxCpuPercent, pct(samples[i - 1]!, samples[i]!));
    return {
      samples,
      baselineRssMb: mb(first.rssBytes),
      maxRssMb: mb(Math.max(...samples.map((s) => s.rssBytes))),
      lastRssMb: mb(last.rssBytes),
      cpuPercent: pct(first, last),
      maxCpuPercent,
      lost,
    };
  };
  return {
    current: summary,
    stop() {
      clearInterval(timer);
      return summary();
    },
  };
}
