/** CPU load of the machine and of given processes, from /proc, as cores used over the time between two samples. */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { readProcStat } from '../supervisor/proc.js';

/** USER_HZ: the unit of /proc times; 100 on every Linux ABI Node runs on (the kernel fixes it for userspace). */
const TICKS_PER_SECOND = 100;

/** Busy and total jiffies of all CPUs from the first line of /proc/stat; null without /proc. */
export function readMachineTicks(text?: string): { idle: number; total: number } | null {
  try {
    const line = (text ?? readFileSync('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'cpu') return null;
    // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    const v = f.slice(1, 9).map(Number);
    if (v.some((x) => !Number.isFinite(x))) return null;
    return { idle: v[3]! + v[4]!, total: v.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/** Samples the machine and a set of pids; each call reports the cores used since the previous call. */
export class CpuSampler {
  private machine: { idle: number; total: number } | null = null;
  private readonly procs = new Map<number, { ticks: number; at: number }>();

  constructor(readonly cores = availableParallelism()) {}

  /** Idle cores of the machine since the last call (null on the first call or without /proc). */
  idleCores(): number | null {
    const now = readMachineTicks();
    const before = this.machine;
    this.machine = now;
    if (!now || !before || now.total <= before.total) return null;
    return ((now.idle - before.idle) / (now.total - before.total)) * this.cores;
  }

  /** Cores used by `pid` since the last call for it (null on the first call, or when it is gone). */
  processCores(pid: number, at = performance.now()): number | null {
    const stat = readProcStat(pid);
    if (!stat) {
      this.procs.delete(pid);
      return null;
    }
    const before = this.procs.get(pid);
    this.procs.set(pid, { ticks: stat.cpuTicks, at });
    if (!before || at <= before.at || stat.cpuTicks < before.ticks) return null;
    return (stat.cpuTicks - before.ticks) / TICKS_PER_SECOND / ((at - before.at) / 1000);
  }

  /** Forgets pids not in `alive` (their numbers may be reused). */
  retain(alive: Set<number>): void {
    for (const pid of this.procs.keys()) if (!alive.has(pid)) this.procs.delete(pid);
  }
}
