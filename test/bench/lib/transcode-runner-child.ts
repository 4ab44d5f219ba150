/**
 * The child process of lib/transcode-runner.ts: one side of the compressor bench. `pool` runs the jobs through a
 * real Supervisor and TranscodePool (as the compressor role does), `bare` spawns the same ffmpeg argv with plain
 * child_process and reads `-progress` itself (the least any spawner must do).
 * It runs as plain compiled JavaScript, not under tsx (whose loader alone costs an idle Node process about 0.8 % of
 * a core here, more than the pool itself): transcode-runner.ts transpiles this file and points its imports of app/
 * at dist/app/. So it imports nothing but node builtins and app/ modules (types from anywhere).
 * stdin, JSON lines: first `{"ffmpeg","jobs":[argv …]}` (argv without `-progress`, credentials inside, hence not on
 * the command line), then `{"want":n}` (jobs 0 … n-1 run) or `{"sample":true}`; closing stdin stops every job.
 * stdout, JSON lines: `{"ready":true}`, `{"wanted":n}`, one RunnerSample per sample request, `{"stopped":true}` last.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CAPACITY } from '../../../app/compressor/capacity.js';
import { CpuSampler } from '../../../app/compressor/cpu.js';
import { TranscodePool } from '../../../app/compressor/pool.js';
import { configSchema } from '../../../app/config/schema.js';
import type { JobDefinition } from '../../../app/defs/job.js';
import { EventBus } from '../../../app/events/bus.js';
import { silentLogger } from '../../../app/log/logger.js';
import { PROGRESS_ARGS } from '../../../app/supervisor/launch.js';
import { LineSplitter } from '../../../app/supervisor/line-ring.js';
import { ProgressParser } from '../../../app/supervisor/progress-parser.js';
import { Supervisor } from '../../../app/supervisor/supervisor.js';

/** One job at the time of a sample. */
export interface JobSample {
  /** Index of the job (0 … n-1). */
  index: number;
  pid: number | null;
  restarts: number;
  /** Pool: the job's state; bare: running or exited. */
  state: string;
  /** Frame and media time (ms) of the last -progress block, and when it arrived (epoch ms, sub-ms precision). */
  frame: number | null;
  outMs: number | null;
  at: number | null;
  /** Pool only: the speed the pool's SpeedMeter sees. */
  poolSpeed: number | null;
  /** The last line ffmpeg printed on stderr (errors), for diagnostics. */
  lastLine: string | null;
}

/** What the child answers to `{"sample":true}`. */
export interface RunnerSample {
  at: number;
  /** CPU time of this process (all its threads), µs: the pool's overhead on the pool side. */
  cpuUs: number;
  jobs: JobSample[];
}

const epochNow = () => performance.timeOrigin + performance.now();

/** What each side implements. */
interface Side {
  want(n: number): void;
  jobs(): JobSample[];
  stop(): Promise<void>;
}

/** The role's timings: the config's supervisor defaults, a stall timeout of at least 5 s (app/roles/compressor.ts). */
const SUPERVISOR = configSchema.shape.supervisor.parse(undefined);

/**
 * The pool's own idle-CPU check would keep jobs waiting whenever other users load this shared machine; the bench
 * decides N itself. The machine is still sampled every tick (what the pool costs), the answer is just not used.
 */
class NoIdleCheck extends CpuSampler {
  override idleCores(): null {
    super.idleCores();
    return null;
  }
}

async function poolSide(ffmpeg: string, argv: string[][]): Promise<Side> {
  const runDir = mkdtempSync(join(tmpdir(), 'cupola-bench-sup-'));
  const bus = new EventBus();
  const sup = new Supervisor({ log: silentLogger(), bus, options: SUPERVISOR, runDir });
  await sup.start();
  const last = new Map<string, { frame: number | null; outMs: number | null; at: number }>();
  bus.on('child.progress', (e) => {
    const p = e.data.progress;
    last.set(e.data.name, { frame: p.frame ?? null, outMs: p.outTimeMs ?? null, at: epochNow() });
  });
  const pool = new TranscodePool({
    supervisor: sup,
    ffmpeg,
    // Every wanted job is admitted (one per tick once the running ones have a speed) and none is shed.
    capacity: { ...DEFAULT_CAPACITY, maxJobs: argv.length, settleMs: 0, admitSpeed: 0, degradedAfterMs: 1e12 },
    stallTimeoutMs: Math.max(SUPERVISOR.stallTimeoutMs, 5000),
    log: silentLogger(),
    onState: () => undefined,
    cpu: new NoIdleCheck(),
  });
  pool.start();
  let wanted = 0;
  const def = (i: number): JobDefinition => {
    const end = { url: `rtsp://bench/cam${i}`, codec: 'h264', width: null, height: null };
    const names = { id: `bench/cam${i}`, slave: 'bench', camera: `cam${i}`, preset: 'bench' };
    return { ...names, encoder: 'libx264', args: argv[i]!, input: end, output: end };
  };
  return {
    want(n) {
      for (; wanted < n; wanted++) pool.want(def(wanted));
    },
    jobs() {
      return pool.list().map((j) => {
        const index = Number(j.camera.slice(3));
        const block = j.pid ? last.get(`job:${j.id}`) : undefined;
        return {
          index,
          pid: j.pid,
          restarts: j.restarts,
          state: j.state,
          frame: block?.frame ?? null,
          outMs: block?.outMs ?? null,
          at: block?.at ?? null,
          poolSpeed: j.speed,
          lastLine: j.logTail.at(-1) ?? null,
        };
      });
    },
    async stop() {
      await pool.stop();
      await sup.stop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

interface BareJob {
  cp: ChildProcess;
  exited: Promise<void>;
  done: boolean;
  frame: number | null;
  outMs: number | null;
  at: number | null;
  lastLine: string | null;
}

function bareSide(ffmpeg: string, argv: string[][]): Side {
  const jobs: BareJob[] = [];
  const launch = (args: string[]): BareJob => {
    // The argv the Supervisor spawns (it execs through `setpriv --pdeathsig`, which leaves the same ffmpeg running).
    const cp = spawn(ffmpeg, [...PROGRESS_ARGS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const job: BareJob = {
      cp,
      exited: Promise.resolve(),
      done: false,
      frame: null,
      outMs: null,
      at: null,
      lastLine: null,
    };
    job.exited = new Promise((resolve) => cp.once('exit', () => ((job.done = true), resolve())));
    const parser = new ProgressParser();
    const lines = new LineSplitter((line) => {
      const block = parser.push(line);
      if (!block) return;
      job.frame = block.frame ?? null;
      job.outMs = block.outTimeMs ?? null;
      job.at = epochNow();
    });
    cp.stdout!.setEncoding('utf8');
    cp.stdout!.on('data', (chunk: string) => lines.write(chunk));
    const errors = new LineSplitter((line) => (job.lastLine = line));
    cp.stderr!.setEncoding('utf8');
    cp.stderr!.on('data', (chunk: string) => errors.write(chunk));
    cp.stdin!.on('error', () => undefined);
    return job;
  };
  return {
    want(n) {
      while (jobs.length < n) jobs.push(launch(argv[jobs.length]!));
    },
    jobs() {
      return jobs.map((j, index) => ({
        index,
        pid: j.done ? null : (j.cp.pid ?? null),
        restarts: 0,
        state: j.done ? 'exited' : 'running',
        frame: j.frame,
        outMs: j.outMs,
        at: j.at,
        poolSpeed: null,
        lastLine: j.lastLine,
      }));
    },
    async stop() {
      // As the Supervisor does: `q`, then SIGTERM, then SIGKILL, 2 s apart.
      const within = (p: Promise<void>, ms: number) =>
        Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
      await Promise.all(
        jobs.map(async (j) => {
          j.cp.stdin!.end('q');
          if (await within(j.exited, 2000)) return;
          j.cp.kill('SIGTERM');
          if (await within(j.exited, 2000)) return;
          j.cp.kill('SIGKILL');
          await j.exited;
        }),
      );
    },
  };
}

async function runChild(mode: string): Promise<void> {
  if (mode !== 'pool' && mode !== 'bare') throw new Error(`unknown mode ${mode}`);
  const input = createInterface({ input: process.stdin });
  const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  let side: Side | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await side?.stop();
      out({ stopped: true });
      process.exit(0);
    })());
  process.once('SIGTERM', () => void stop());
  input.on('close', () => void stop());
  for await (const line of input) {
    const message = JSON.parse(line) as { ffmpeg?: string; jobs?: string[][]; want?: number; sample?: boolean };
    if (message.jobs && message.ffmpeg) {
      side = mode === 'pool' ? await poolSide(message.ffmpeg, message.jobs) : bareSide(message.ffmpeg, message.jobs);
      out({ ready: true });
    } else if (message.want !== undefined) {
      side?.want(message.want);
      out({ wanted: message.want });
    } else if (message.sample) {
      const cpu = process.cpuUsage();
      out({ at: epochNow(), cpuUs: cpu.user + cpu.system, jobs: side?.jobs() ?? [] } satisfies RunnerSample);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runChild(process.argv[2] ?? '');
}
