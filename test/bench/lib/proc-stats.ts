/**
 * CPU and memory of processes from /proc, for the media benchmarks: utime + stime of /proc/<pid>/stat (every thread of
 * the process, not its children) and VmRSS of /proc/<pid>/status; the machine's busy share from /proc/stat.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc times (USER_HZ; 100 on every Linux this runs on, asked once to be sure). */
export const CLK_TCK = (() => {
  const run = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(run.stdout?.trim()) || 100;
})();

/** utime + stime of `pid` in ticks; undefined when it is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(11) stime(12).
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Resident memory of `pid` in KiB; 0 when it is gone. */
export function rssKiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Bytes `pid` passed to read(2) so far: rchar of /proc/<pid>/io (sockets included, and Node reads TCP with read);
 * NaN when unreadable.
 */
export function readBytes(pid: number): number {
  try {
    return Number(/^rchar: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Busy and total ticks of all CPUs since boot (busy = everything but idle and iowait). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** What a CpuWindow measured. */
export interface CpuSample {
  /** CPU of the watched processes in % of one core (200 = both cores of a 2-core machine), summed. */
  cpuPct: number;
  /** Each watched process's share, by label. */
  byProcess: Record<string, number>;
  /** Busy share of the whole machine in % (100 = every core busy). */
  machinePct: number;
  /** CPU of the bench's own helpers (publishers, readers), in % of one core. */
  helpersPct: number;
  /** Everything else the machine did meanwhile (other users' work), in % of one core: the noise indicator. */
  foreignPct: number;
  seconds: number;
}

/** CPU of a fixed set of processes between `new CpuWindow(...)` and `end()`. Throws if one of them vanished. */
export class CpuWindow {
  private readonly startedAt = performance.now();
  private readonly machine = machineTicks();
  private readonly ticks: Map<string, number>;
  private readonly helperTicks: Map<number, number>;

  /** `pids` are measured (and must live until `end()`); `helpers` are the bench's own processes, counted apart. */
  constructor(
    private readonly pids: Record<string, number>,
    helpers: number[] = [],
  ) {
    this.ticks = new Map(Object.entries(pids).map(([label, pid]) => [label, mustTicks(label, pid)]));
    this.helperTicks = new Map(helpers.map((pid) => [pid, cpuTicks(pid) ?? 0]));
  }

  /** Closes the window. */
  end(): CpuSample {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const machine = machineTicks();
    const byProcess: Record<string, number> = {};
    let sum = 0;
    for (const [label, pid] of Object.entries(this.pids)) {
      const used = (mustTicks(label, pid) - this.ticks.get(label)!) / CLK_TCK;
      byProcess[label] = round1((100 * used) / seconds);
      sum += used;
    }
    const machinePct = (100 * (machine.busy - this.machine.busy)) / Math.max(1, machine.total - this.machine.total);
    let helpers = 0;
    for (const [pid, before] of this.helperTicks) helpers += Math.max(0, (cpuTicks(pid) ?? before) - before) / CLK_TCK;
    const cpuPct = (100 * sum) / seconds;
    const helpersPct = (100 * helpers) / seconds;
    const foreignPct = Math.max(0, machinePct * cpus().length - cpuPct - helpersPct);
    return {
      cpuPct: round1(cpuPct),
      byProcess,
      machinePct: round1(machinePct),
      helpersPct: round1(helpersPct),
      foreignPct: round1(foreignPct),
      seconds,
    };
  }
}

function mustTicks(label: string, pid: number): number {
  const ticks = cpuTicks(pid);
  if (ticks === undefined) throw new Error(`${label} (pid ${pid}) is gone`);
  return ticks;
}

/** Rounds to one decimal. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Rounds to three significant decimals. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
