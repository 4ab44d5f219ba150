/**
 * One relay stream's ffmpeg, run by the Supervisor (which restarts it with backoff when the source or destination
 * is gone), and its moves to new URLs: a fast restart when only the source changes (one publisher per destination),
 * make-before-break when the destination changes (the new job produces before the old one stops). The output gap
 * is measured from the jobs' -progress blocks: from the moment the old job is asked to stop to the first block in
 * which the new one has written video.
 */
import type { ChildStatus } from '../defs/child.js';
import type { BusEvent } from '../defs/events.js';
import type { RelayStreamState, SwitchMode } from '../defs/relay.js';
import type { ChildSpec, SupervisedChild } from '../supervisor/types.js';
import { maskText } from '../log/mask.js';

/** What a job needs from the Supervisor. */
export interface JobSpawner {
  spawn(spec: ChildSpec): SupervisedChild;
  remove(name: string): Promise<void>;
}

/** One incarnation's definition: the binary, its argv (with credentials: never logged) and the restart policy. */
export interface JobPlan {
  command: string;
  args: string[];
  autoRestart: boolean;
  /**
   * Set when the argv is a guess made without a probe of the source (preset auto while the source was down): the
   * job asks its controller to probe again whenever ffmpeg ends, until a probe succeeds (hooks.reprobe).
   */
  unprobed?: boolean;
}

/** What a job reports to its controller. */
export interface JobHooks {
  state(state: RelayStreamState, reason: string | null): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** ffmpeg of an unprobed plan ended and will be restarted: probe the source, then replan() before that restart. */
  reprobe(): void;
}

/** How a switch went. `gapMs` is null when the new job did not produce within the timeout. */
export type SwitchResult =
  { ok: true; mode: SwitchMode; gapMs: number | null; overlapMs: number | null } | { ok: false; error: string };

const POLL_MS = 40;

interface Running {
  name: string;
  handle: SupervisedChild;
  plan: JobPlan;
}

/** See the file comment. */
export class StreamJob {
  private current: Running | null = null;
  private generation = 0;
  private producing = false;
  private retrying = false;
  private switching = false;
  /** Counts stop() calls: an await that sees it change knows the job was stopped meanwhile. */
  private stops = 0;

  constructor(
    readonly id: string,
    private readonly spawner: JobSpawner,
    private readonly hooks: JobHooks,
  ) {}

  /** True while a child exists (running, starting or waiting to retry). */
  get active(): boolean {
    return this.current !== null;
  }

  /** The Supervisor's view of the current child, or null. */
  status(): ChildStatus | null {
    return this.current?.handle.status() ?? null;
  }

  /** Starts the job (no-op when it runs). */
  start(plan: JobPlan): void {
    if (this.current) return;
    this.current = this.spawn(plan);
    this.hooks.state('starting', null);
  }

  /** Stops the job; resolves once its ffmpeg is gone. */
  async stop(reason = 'stopped'): Promise<void> {
    this.stops += 1;
    const cur = this.current;
    this.current = null;
    this.producing = false;
    if (cur) await this.spawner.remove(cur.name);
    this.hooks.state('stopped', reason);
  }

  /** Source changed, same destination: stop the old publisher, start the new one, time the gap. */
  async restart(plan: JobPlan, timeoutMs: number): Promise<SwitchResult> {
    this.switching = true;
    this.hooks.state('switching', 'restart with the new source');
    try {
      const t0 = performance.now();
      const old = this.current;
      this.current = null;
      if (old) await this.spawner.remove(old.name);
      const next = this.spawn(plan);
      this.current = next;
      const produced = await this.waitProducing(next, timeoutMs);
      const gapMs = produced ? Math.round(produced - t0) : null;
      this.producing = produced !== null;
      return { ok: true, mode: 'restart', gapMs, overlapMs: null };
    } finally {
      this.switching = false;
      this.settle();
    }
  }

  /** Destination changed: the new job must produce before the old one stops; on failure the old one keeps going. */
  async makeBeforeBreak(plan: JobPlan, timeoutMs: number): Promise<SwitchResult> {
    this.switching = true;
    this.hooks.state('switching', 'make-before-break to the new destination');
    try {
      const next = this.spawn(plan);
      const produced = await this.waitProducing(next, timeoutMs);
      if (produced === null) {
        const why = lastLine(next.handle) ?? `no output within ${timeoutMs} ms`;
        await this.spawner.remove(next.name);
        return { ok: false, error: `the new job did not produce: ${why}` };
      }
      const old = this.current;
      this.current = next;
      this.producing = true;
      if (old) await this.spawner.remove(old.name);
      return { ok: true, mode: 'make-before-break', gapMs: 0, overlapMs: Math.round(performance.now() - produced) };
    } finally {
      this.switching = false;
      this.settle();
    }
  }

  /** True when the current child was given up by the Supervisor (restart policy never, or spawn failures). */
  get gaveUp(): boolean {
    return this.current?.handle.status().state === 'gave-up';
  }

  /** True when the current child runs an unprobed plan (its argv may change once the source can be probed). */
  get unprobed(): boolean {
    return this.current?.plan.unprobed === true;
  }

  /** True when the current child reads `rtspUrl` and writes `rtmpUrl`. */
  runs(rtspUrl: string, rtmpUrl: string): boolean {
    const args = this.current?.plan.args ?? [];
    return args[args.indexOf('-i') + 1] === rtspUrl && args[args.length - 1] === rtmpUrl;
  }

  /**
   * A probe of the source succeeded for an unprobed plan: runs `plan` instead, unless the argv is the same or the
   * guessed child forwards video by now (then its plan is just marked probed). The old child goes first (one
   * publisher per RTMP name). Returns true when the child was replaced.
   */
  async replan(plan: JobPlan): Promise<boolean> {
    const old = this.current;
    if (!old || !old.plan.unprobed || this.switching) return false;
    if (this.producing || JSON.stringify(plan.args) === JSON.stringify(old.plan.args)) {
      old.plan = { ...old.plan, unprobed: false };
      return false;
    }
    const stops = this.stops;
    this.current = null;
    this.producing = false;
    await this.spawner.remove(old.name);
    if (this.stops !== stops || this.current) return false;
    this.current = this.spawn(plan);
    this.hooks.state('starting', 'started again with the probed source');
    return true;
  }

  /** Follows the Supervisor's events of the current child (the controller hands every child event to each job). */
  onChildEvent(e: BusEvent): void {
    const cur = this.current;
    const name = (e.data as { name?: string }).name;
    if (!cur || name !== cur.name || this.switching) return;
    switch (e.type) {
      case 'child.progress': {
        const p = (e as BusEvent<'child.progress'>).data.progress;
        if (!this.producing && (p.frame ?? 0) > 0) {
          this.producing = true;
          if (this.retrying) this.hooks.log('info', 'source back: forwarding again');
          this.retrying = false;
          this.hooks.state('running', null);
        }
        return;
      }
      case 'child.restarting': {
        const d = (e as BusEvent<'child.restarting'>).data;
        const why = lastLine(cur.handle) ?? exitText(cur.handle.status());
        this.producing = false;
        this.retrying = true;
        const text = `ffmpeg ended (${why}); retrying in ${(d.delayMs / 1000).toFixed(1)} s (attempt ${d.attempt})`;
        if (d.attempt <= 6 || d.attempt % 10 === 0) this.hooks.log('warn', text);
        this.hooks.state('retrying', why);
        if (cur.plan.unprobed) this.hooks.reprobe();
        return;
      }
      case 'child.gave-up': {
        const d = (e as BusEvent<'child.gave-up'>).data;
        this.producing = false;
        this.hooks.log('error', `gave up: ${d.reason}; ${lastLine(cur.handle) ?? ''}`.trim());
        this.hooks.state('failed', d.reason);
        return;
      }
      case 'child.exited': {
        const d = (e as BusEvent<'child.exited'>).data;
        this.producing = false;
        if (d.code === 0 && cur.handle.status().state === 'stopped') this.hooks.state('stopped', 'ffmpeg ended');
        return;
      }
      default:
    }
  }

  private spawn(plan: JobPlan): Running {
    const name = `relay-${this.id}-${++this.generation}`;
    const handle = this.spawner.spawn({
      name,
      kind: 'ffmpeg',
      command: plan.command,
      args: plan.args,
      progress: true,
      restart: plan.autoRestart ? 'always' : 'never',
    });
    return { name, handle, plan };
  }

  /** performance.now() of the first -progress block with video written, or null after the timeout / a give-up. */
  private waitProducing(run: Running, timeoutMs: number): Promise<number | null> {
    const deadline = performance.now() + timeoutMs;
    return new Promise((resolve) => {
      const tick = () => {
        const s = run.handle.status();
        if ((s.progress?.frame ?? 0) > 0) return resolve(performance.now());
        if (s.state === 'gave-up' || s.state === 'stopped' || performance.now() > deadline) return resolve(null);
        setTimeout(tick, POLL_MS);
      };
      tick();
    });
  }

  /** After a switch: report what the new child is doing now. */
  private settle(): void {
    const s = this.current?.handle.status();
    if (!s) return this.hooks.state('stopped', null);
    if (this.producing) {
      this.retrying = false;
      return this.hooks.state('running', null);
    }
    if (s.state === 'gave-up') return this.hooks.state('failed', lastLine(this.current!.handle));
    this.retrying = s.state === 'backoff';
    this.hooks.state(s.state === 'backoff' ? 'retrying' : 'starting', lastLine(this.current!.handle));
  }
}

/** The child's last output line (ffmpeg's error), masked and bounded, or null. */
function lastLine(handle: SupervisedChild): string | null {
  const lines = handle.logs().filter((l) => l.trim() !== '');
  const line = lines[lines.length - 1];
  return line ? maskText(line.trim()).slice(0, 300) : null;
}

function exitText(s: ChildStatus): string {
  const e = s.lastExit;
  if (!e) return 'exited';
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}
