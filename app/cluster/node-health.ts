/**
 * The health figures of this node (`NodeInfo.health`): CPU of the machine, of this process and of its supervised
 * children, averaged over the last few seconds by a one-second sampling timer; memory, load and the role counts are
 * read when asked.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';
import { readMachineTicks } from '../compressor/cpu.js';
import type { NodeHealth } from '../defs/node.js';
import { readProcStat } from '../supervisor/proc.js';

/** USER_HZ: the unit of /proc times (fixed at 100 for userspace on every Linux ABI Node runs on). */
const TICKS_PER_SECOND = 100;

/** What the sampler reads from the core; every role part is optional (null in the figures when absent). */
export interface NodeHealthSources {
  /** Pids of the supervised children running now. */
  children(): Array<{ pid: number | null }>;
  /** The media plane's streams (plane, whether a publisher feeds it, whether it is a master's relay). */
  streams?: () => StreamLike[];
  /** The compressor's jobs. */
  jobs?: () => Array<{ state: string }>;
  /** Streams the master relays. */
  relays?: () => number;
}

/** What the counts read of a media plane stream. */
export interface StreamLike {
  plane: 'f1' | 'f2';
  stats: { publisher: unknown };
  /** Set on a master's relayed stream (counted in `relays`, not in `streams`). */
  relay?: unknown;
}

/** Options of NodeHealthSampler (tests shorten them). */
export interface NodeHealthOptions {
  /** Between two samples (default 1000 ms). */
  sampleMs?: number;
  /** Samples kept: the CPU figures cover `(samples - 1) × sampleMs` (default 6: 5 s). */
  samples?: number;
}

/** One sample: monotonic time, machine jiffies, own CPU time, and each child's CPU ticks by pid. */
interface Sample {
  at: number;
  machine: { idle: number; total: number } | null;
  ownMicros: number;
  children: Map<number, { startTime: string; ticks: number }>;
}

/** Samples CPU every `sampleMs` between start() and stop(); snapshot() builds the figures from the window. */
export class NodeHealthSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly window: Sample[] = [];
  private readonly sampleMs: number;
  private readonly keep: number;
  private readonly cores = availableParallelism();

  constructor(
    private readonly src: NodeHealthSources,
    options: NodeHealthOptions = {},
  ) {
    this.sampleMs = options.sampleMs ?? 1000;
    this.keep = Math.max(2, options.samples ?? 6);
  }

  /** Takes a first sample and starts the timer. */
  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.sampleMs);
    this.timer.unref();
  }

  /** Stops the timer and forgets the samples. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.window.length = 0;
  }

  /** The figures now (CPU over the samples kept; null CPU before two samples). */
  snapshot(): NodeHealth {
    const first = this.window[0];
    const last = this.window[this.window.length - 1];
    const span = first && last && last.at > first.at ? (last.at - first.at) / 1000 : 0;
    const total = totalmem();
    const running = this.src.children().filter((c): c is { pid: number } => c.pid !== null);
    return {
      sampledAt: new Date(last ? performance.timeOrigin + last.at : Date.now()).toISOString(),
      windowS: Math.round(span * 10) / 10,
      machine: {
        cores: this.cores,
        cpuPercent: first && last ? machinePercent(first, last) : null,
        loadAvg: loadavg().map(round2) as [number, number, number],
        memUsedBytes: total - freemem(),
        memTotalBytes: total,
      },
      process: {
        cpuPercent: first && last && span > 0 ? round1(((last.ownMicros - first.ownMicros) / 1e6 / span) * 100) : null,
        rssBytes: process.memoryUsage.rss(),
      },
      children: {
        count: running.length,
        cpuPercent: first && last && span > 0 ? childrenPercent(first, last) : null,
        rssBytes: running.reduce((sum, c) => sum + (readRssBytes(c.pid) ?? 0), 0),
      },
      streams: this.src.streams ? countStreams(this.src.streams()) : null,
      jobs: this.src.jobs ? countJobs(this.src.jobs()) : null,
      relays: this.src.relays ? this.src.relays() : null,
    };
  }

  private sample(): void {
    const cpu = process.cpuUsage();
    const children = new Map<number, { startTime: string; ticks: number }>();
    for (const c of this.src.children()) {
      if (c.pid === null) continue;
      const stat = readProcStat(c.pid);
      if (stat) children.set(c.pid, { startTime: stat.startTime, ticks: stat.cpuTicks });
    }
    this.window.push({
      at: performance.now(),
      machine: readMachineTicks(),
      ownMicros: cpu.user + cpu.system,
      children,
    });
    while (this.window.length > this.keep) this.window.shift();
  }
}

/** Busy share of all cores between two samples, in percent. */
function machinePercent(a: Sample, b: Sample): number | null {
  if (!a.machine || !b.machine || b.machine.total <= a.machine.total) return null;
  const total = b.machine.total - a.machine.total;
  return round1(Math.min(100, Math.max(0, (1 - (b.machine.idle - a.machine.idle) / total) * 100)));
}

/**
 * CPU of the children alive in the last sample, each from its earliest sample in the window (same pid and start
 * time, so a recycled pid is not mistaken for the old process), in percent of one core over the whole window.
 */
function childrenPercent(first: Sample, last: Sample): number {
  const span = (last.at - first.at) / 1000;
  let ticks = 0;
  for (const [pid, now] of last.children) {
    const before = first.children.get(pid);
    if (before && before.startTime === now.startTime && now.ticks >= before.ticks) ticks += now.ticks - before.ticks;
  }
  return round1((ticks / TICKS_PER_SECOND / span) * 100);
}

/** Resident memory of a process from /proc/<pid>/status (kB there), or null when it is gone. */
export function readRssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Streams with a publisher, per plane, a master's relays left out. */
export function countStreams(streams: StreamLike[]): { f1: number; f2: number } {
  const live = streams.filter((s) => s.stats.publisher && !s.relay);
  return { f1: live.filter((s) => s.plane === 'f1').length, f2: live.filter((s) => s.plane === 'f2').length };
}

/** Jobs by what they are doing: running (or degraded), waiting for capacity, and all of them. */
export function countJobs(jobs: Array<{ state: string }>): { total: number; running: number; waiting: number } {
  return {
    total: jobs.length,
    running: jobs.filter((j) => j.state === 'running' || j.state === 'degraded').length,
    waiting: jobs.filter((j) => j.state === 'waiting-for-capacity').length,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
