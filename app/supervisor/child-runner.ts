/** One supervised child: spawn, watch, restart with backoff, stop in three steps. The handle survives restarts. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { ChildProgress, ChildState, ChildStatus } from '../defs/child.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import { Backoff } from './backoff.js';
import { attachOutput } from './child-output.js';
import { maskText } from '../log/mask.js';
import { planLaunch, redactArgs } from './launch.js';
import { LineRing } from './line-ring.js';
import { killGroupIfOurs, processStartTime, signalGroup } from './proc.js';
import type { RegistryEntry } from './registry.js';
import { stopProcess } from './stop-process.js';
import type { ChildSpec, SupervisedChild, SupervisorOptions } from './types.js';
import { Watchdog } from './watchdog.js';

/** Consecutive failed spawns (binary missing, not executable, cwd missing) before giving up. */
export const MAX_SPAWN_FAILURES = 5;
/** Minimum spacing of 'child.progress' events per child (ffmpeg reports every 500 ms; this keeps ~2/s). */
export const PROGRESS_EVENT_INTERVAL_MS = 450;
const LOG_LINES = 200;

/** The run-file operations a runner needs. */
export interface ChildRecorder {
  add(entry: RegistryEntry): void;
  delete(name: string): void;
}

/** What a runner shares with its Supervisor. */
export interface RunnerContext {
  log: Logger;
  bus: EventBus;
  options: SupervisorOptions;
  recorder: ChildRecorder;
  /** `setpriv` path when children are wrapped with --pdeathsig. */
  wrapper: string | undefined;
}

/** Runs and re-runs one ChildSpec; see app/supervisor/README.md for the state machine. */
export class ChildRunner implements SupervisedChild {
  readonly name: string;
  private state: ChildState = 'stopped';
  private proc: ChildProcess | undefined;
  private pid: number | null = null;
  private procStartTime: string | undefined;
  private startedAtMs = 0;
  private startedAt: string | null = null;
  private attempt = 0;
  private spawnFailures = 0;
  private stalled = false;
  private lastExit: ChildStatus['lastExit'] = null;
  private progress: ChildProgress | null = null;
  private lastProgressEvent = Number.NEGATIVE_INFINITY;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly ring = new LineRing(LOG_LINES);
  private readonly listeners = new Set<(message: unknown) => void>();
  private readonly backoff: Backoff;
  private readonly watchdog: Watchdog;
  private readonly log: Logger;

  constructor(
    private readonly spec: ChildSpec,
    private readonly ctx: RunnerContext,
  ) {
    this.name = spec.name;
    const o = ctx.options;
    this.backoff = new Backoff({
      initialMs: o.backoffInitialMs,
      maxMs: o.backoffMaxMs,
      healthyAfterMs: o.healthyAfterMs,
    });
    const stallMs = spec.stallTimeoutMs === undefined ? o.stallTimeoutMs : spec.stallTimeoutMs;
    this.watchdog = new Watchdog(stallMs, (silentMs) => this.onStall(silentMs));
    this.log = ctx.log.child({ child: spec.name });
  }

  /** Starts the first incarnation. */
  start(): void {
    this.launch();
  }

  /** @inheritdoc */
  status(): ChildStatus {
    return {
      name: this.name,
      kind: this.spec.kind,
      state: this.state,
      pid: this.pid,
      restarts: Math.max(0, this.attempt - 1),
      startedAt: this.startedAt,
      lastExit: this.lastExit,
      progress: this.progress && { ...this.progress },
    };
  }

  /** @inheritdoc */
  logs(): string[] {
    return this.ring.toArray();
  }

  /** @inheritdoc */
  send(message: unknown): boolean {
    const cp = this.proc;
    if (!cp?.connected || !cp.send) return false;
    // The callback turns an async send failure (channel closing) into a log line instead of an 'error' event.
    return cp.send(message as object, (err) => err && this.log.debug({ err: err.message }, 'ipc send failed'));
  }

  /** @inheritdoc */
  onMessage(listener: (message: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the child (q / disconnect, then SIGTERM, then SIGKILL) and cancels any pending restart. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.watchdog.disarm();
    const cp = this.proc;
    const pid = this.pid;
    if (!cp || pid === null) {
      if (this.state !== 'gave-up') this.state = 'stopped';
      return Promise.resolve();
    }
    this.state = 'stopping';
    const how = {
      kind: this.spec.kind,
      ipc: this.spec.ipc === true,
      waitMs: this.ctx.options.stopTimeoutMs,
      log: this.log,
    };
    this.stopping = stopProcess(cp, pid, this.exited, how).finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private launch(): void {
    this.restartTimer = undefined;
    this.attempt += 1;
    this.state = 'starting';
    this.stalled = false;
    this.progress = null;
    const plan = planLaunch(this.spec, this.ctx.wrapper);
    if (!plan.ok) return this.spawnFailed(plan.error);
    const envKeys = Object.keys(this.spec.env ?? {}); // names only: values may be secrets
    this.log.debug({ argv: redactArgs([plan.command, ...plan.args]), envKeys, attempt: this.attempt }, 'spawning');
    let cp: ChildProcess;
    try {
      const fd3 = this.spec.ipc ? ['ipc' as const] : this.spec.dataPipe ? ['pipe' as const] : [];
      const stdio: StdioOptions = ['pipe', 'pipe', 'pipe', ...fd3];
      // detached = setsid(): the child leads its own process group, so one kill(-pgid) reaches everything it forks.
      cp = spawn(plan.command, plan.args, { env: plan.env, cwd: this.spec.cwd, detached: true, stdio });
    } catch (err) {
      return this.spawnFailed((err as Error).message);
    }
    const pid = cp.pid;
    if (pid === undefined) {
      cp.once('error', (err) => this.state === 'starting' && this.spawnFailed(err.message));
      return;
    }
    // Read before the event loop can reap the child, so this is certainly our process and not a recycled pid.
    this.procStartTime = processStartTime(pid);
    this.ctx.recorder.add({ name: this.name, pgid: pid, startTime: this.procStartTime ?? '' });
    this.proc = cp;
    this.pid = pid;
    this.startedAtMs = performance.now();
    this.startedAt = new Date().toISOString();
    this.spawnFailures = 0;
    this.state = 'running';
    let resolveExited!: () => void;
    this.exited = new Promise((resolve) => (resolveExited = resolve));
    this.attachIo(cp);
    cp.on('error', (err) => this.log.debug({ err: err.message }, 'child process error'));
    cp.once('exit', (code, signal) => {
      this.onExit(pid, code, signal);
      resolveExited();
    });
    const stallMs = this.spec.stallTimeoutMs === undefined ? this.ctx.options.stallTimeoutMs : this.spec.stallTimeoutMs;
    // Start-up (opening and probing an input) legitimately takes longer than a steady-state gap.
    this.watchdog.arm(stallMs === null ? undefined : 2 * stallMs);
    this.ctx.bus.emit('child.started', { name: this.name, pid, attempt: this.attempt });
  }

  private attachIo(cp: ChildProcess): void {
    // Output of a previous incarnation can still drain after a restart; it must not feed the new one's watchdog.
    const current = () => this.proc === cp;
    const data = this.spec.dataPipe;
    const pipe3 = data && (cp.stdio[3] as Readable | null | undefined);
    if (data && pipe3) {
      const attempt = this.attempt;
      pipe3.on('data', (chunk: Buffer) => {
        if (current()) this.watchdog.touch();
        try {
          data(chunk, attempt);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'data pipe listener threw');
        }
      });
      pipe3.on('error', () => {}); // torn down with the process; the exit event reports what matters
    }
    attachOutput(cp, this.spec.kind === 'ffmpeg' && this.spec.progress === true, {
      line: (stream, text) => {
        // ffmpeg echoes its input and output URLs in its log.
        const safe = maskText(text);
        this.ring.push(safe);
        this.log.debug({ stream }, safe);
      },
      activity: () => current() && this.watchdog.touch(),
      progress: (block) => current() && this.onProgress(block),
      message: (message) => {
        for (const fn of this.listeners) {
          try {
            fn(message);
          } catch (err) {
            this.log.warn({ err: (err as Error).message }, 'ipc message listener threw');
          }
        }
      },
    });
  }

  private onProgress(block: ChildProgress): void {
    this.progress = block;
    const now = performance.now();
    if (block.state !== 'end' && now - this.lastProgressEvent < PROGRESS_EVENT_INTERVAL_MS) return;
    this.lastProgressEvent = now;
    this.ctx.bus.emit('child.progress', { name: this.name, progress: block });
  }

  private onStall(silentMs: number): void {
    const pid = this.pid;
    if (this.state !== 'running' || pid === null) return;
    this.stalled = true;
    this.log.warn({ childPid: pid, silentMs }, 'child stalled; killing it');
    this.ctx.bus.emit('child.stalled', { name: this.name, pid, silentMs });
    // No grace for a hung child, and SIGKILL is the one signal a SIGSTOP-frozen process cannot postpone.
    signalGroup(pid, 'SIGKILL');
  }

  private onExit(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    this.watchdog.disarm();
    const uptimeMs = Math.round(performance.now() - this.startedAtMs);
    // The leader is reaped; whatever it forked into its group goes with it.
    const stragglers = killGroupIfOurs(pid, this.procStartTime);
    if (stragglers > 0) this.log.debug({ childPid: pid, stragglers }, 'killed leftover processes of the group');
    this.ctx.recorder.delete(this.name);
    this.proc = undefined;
    this.pid = null;
    this.lastExit = { code, signal, at: new Date().toISOString() };
    this.log.debug({ childPid: pid, code, signal, uptimeMs }, 'child exited');
    this.ctx.bus.emit('child.exited', { name: this.name, pid, code, signal, uptimeMs });
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    const failed = code !== 0 || signal !== null || this.stalled;
    const policy = this.spec.restart ?? 'always';
    if (policy === 'always' || (policy === 'on-failure' && failed))
      return this.scheduleRestart(this.backoff.next(uptimeMs));
    if (!failed) {
      this.state = 'stopped'; // a one-shot job that finished: nothing went wrong, nothing to give up on
      return;
    }
    const why = this.stalled
      ? 'stalled and was killed'
      : signal
        ? `was killed by ${signal}`
        : `exited with code ${code}`;
    this.giveUp(`${why}; restart policy is '${policy}'`);
  }

  private spawnFailed(reason: string): void {
    this.spawnFailures += 1;
    this.log.warn({ reason, failures: this.spawnFailures }, 'spawn failed');
    if ((this.spec.restart ?? 'always') === 'never' || this.spawnFailures >= MAX_SPAWN_FAILURES) {
      return this.giveUp(`spawn failed ${this.spawnFailures} time(s): ${reason}`);
    }
    this.scheduleRestart(this.backoff.next(0));
  }

  private scheduleRestart(delayMs: number): void {
    this.state = 'backoff';
    this.log.debug({ delayMs, attempt: this.attempt + 1 }, 'restarting after backoff');
    this.ctx.bus.emit('child.restarting', { name: this.name, attempt: this.attempt + 1, delayMs });
    if (this.state !== 'backoff') return; // a listener stopped us meanwhile
    this.restartTimer = setTimeout(() => this.launch(), delayMs);
  }

  private giveUp(reason: string): void {
    this.state = 'gave-up';
    this.log.warn({ reason, attempts: this.attempt }, 'gave up on child');
    this.ctx.bus.emit('child.gave-up', { name: this.name, attempts: this.attempt, reason });
  }
}
