/**
 * The relay component: owns the stream jobs (one StreamJob per stream_config row), the SSE client of the control
 * server and the intake of its events, and the stream log. start() resumes the streams that were running; stop()
 * closes the SSE connection and stops every job. The API reaches it through the narrow RelayApi of its routes.
 */
import type { RelayConfig } from '../config/relay.js';
import type { RelayStreamState, RelayStreamView, RelaySwitch, SseClientStatus } from '../defs/relay.js';
import type { EventBus } from '../events/bus.js';
import { resolveFfprobe } from '../ffmpeg/resolve.js';
import type { Logger } from '../log/logger.js';
import type { RelayStreamRow } from '../store/repos/relay-streams.js';
import { RelayError, SSE_LOG_ID, type RelayContext, type RelayStore } from './context.js';
import { parseFfmpegParams } from './ffmpeg-params.js';
import { jobArgs } from './job-args.js';
import { probeSource, type ProbeOutcome, type SourceInfo } from './probe.js';
import { SseClient } from './sse-client.js';
import { SseIntake } from './sse-intake.js';
import { StreamJob, type JobPlan, type JobSpawner } from './stream-job.js';
import { maskText, maskUrl } from '../log/mask.js';

/** What the controller is built from. */
export interface RelayDeps {
  /** The current `relay` config section (read again on every use and on reconfigure). */
  config: () => RelayConfig;
  store: RelayStore;
  supervisor: JobSpawner;
  bus: EventBus;
  log: Logger;
  /** Resolves ffmpeg (throws when there is none). */
  ffmpeg: () => string;
  /** Resolves ffprobe, preferably next to that ffmpeg (throws when there is none); default resolveFfprobe. */
  ffprobe?: (ffmpegPath: string) => string;
}

/** See the file comment. */
export class RelayController {
  private readonly jobs = new Map<string, StreamJob>();
  private readonly states = new Map<string, { state: RelayStreamState; reason: string | null }>();
  private readonly switches = new Map<string, RelaySwitch>();
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Streams whose source is being probed again (one probe at a time per stream), until done. */
  private readonly reprobing = new Map<string, Promise<void>>();
  private readonly intake: SseIntake;
  private sse: SseClient | null = null;
  private sseKey = '';
  private offBus: (() => void) | null = null;
  private bins: { ffmpeg: string; ffprobe: string | null } | null = null;
  /** The services its parts (url-change, sse-intake, stream-admin) use. */
  readonly ctx: RelayContext;

  constructor(private readonly deps: RelayDeps) {
    this.ctx = {
      store: deps.store,
      bus: deps.bus,
      config: deps.config,
      log: (id, level, message) => this.log(id, level, message),
      job: (id) => this.job(id),
      plan: (row, source) => this.plan(row, source),
      probe: (url) => this.probe(url),
      serial: (id, fn) => this.serial(id, fn),
      switched: (id, s) => this.switches.set(id, s),
      view: (id) => this.view(id),
    };
    this.intake = new SseIntake(this.ctx);
  }

  /** Follows the Supervisor's events, resumes enabled streams, connects to the control server. */
  async start(): Promise<void> {
    this.offBus = this.deps.bus.onAny((e) => {
      const name = (e.data as { name?: unknown }).name;
      if (!e.type.startsWith('child.') || typeof name !== 'string' || !name.startsWith('relay-')) return;
      for (const job of this.jobs.values()) job.onChildEvent(e);
    });
    for (const row of this.deps.store.relayStreams.list()) {
      if (row.enabled !== 1) continue;
      this.serial(row.id, () => this.startJob(row)).catch((err: Error) =>
        this.log(row.id, 'error', `cannot start: ${err.message}`),
      );
    }
    this.startSse();
  }

  /** Closes the SSE connection, then stops every job; resolves once their ffmpeg processes are gone. */
  async stop(): Promise<void> {
    await this.sse?.stop();
    this.sse = null;
    await Promise.all([...this.jobs.values()].map((j) => j.stop('node stopping').catch(() => {})));
    await Promise.all(this.reprobing.values()); // their ffprobe ends within its 5 s bound
    this.offBus?.();
    this.offBus = null;
  }

  /** The relay section changed: reconnect the SSE client when its settings did (retention is read on use). */
  reconfigure(): void {
    if (JSON.stringify(this.deps.config().sse) === this.sseKey) return;
    const old = this.sse;
    this.sse = null;
    void (async () => {
      await old?.stop();
      this.startSse();
    })();
  }

  /** The SSE client's state (disabled when no endpoint is configured). */
  sseStatus(): SseClientStatus {
    return (
      this.sse?.status() ?? {
        state: 'disabled',
        url: null,
        lastEventId: this.deps.store.sseEvents.lastEventId(),
        connectedAt: null,
        lastEventAt: null,
        reconnects: 0,
        lastError: null,
        eventsReceived: 0,
        refused: 0,
      }
    );
  }

  /** Resolves once every received SSE event has been processed. */
  sseIdle(): Promise<void> {
    return this.intake.idle();
  }

  /** Every stream. */
  list(): RelayStreamView[] {
    return this.deps.store.relayStreams.list().map((r) => this.toView(r));
  }

  /** One stream, or undefined. */
  view(id: string): RelayStreamView | undefined {
    const row = this.deps.store.relayStreams.get(id);
    return row && this.toView(row);
  }

  /**
   * Starts a stream's job: probes the source first (auto preset, AAC copy), then hands the job to the Supervisor.
   * A job the Supervisor gave up on is started anew (and probed again).
   */
  async startJob(row: RelayStreamRow): Promise<void> {
    const job = this.job(row.id);
    if (job.active && !job.gaveUp) return;
    if (job.active) await job.stop('starting again');
    const probe = await this.probe(row.rtsp_url);
    if (!probe.ok) {
      const then = row.preset === 'auto' ? '; starting anyway, probing again when ffmpeg ends' : '; starting anyway';
      this.log(row.id, 'warn', `source probe failed (${probe.error})${then}`);
    }
    job.start(this.plan(row, probe.ok ? probe.info : null));
    this.log(row.id, 'info', `started: ${maskUrl(row.rtsp_url)} -> ${maskUrl(row.rtmp_url)}`);
  }

  /** The job of a stream, created on first use. */
  job(id: string): StreamJob {
    let job = this.jobs.get(id);
    if (!job) {
      job = new StreamJob(id, this.deps.supervisor, {
        state: (state, reason) => this.setState(id, state, reason),
        log: (level, message) => this.log(id, level, message),
        reprobe: () => this.reprobe(id),
      });
      this.jobs.set(id, job);
    }
    return job;
  }

  /** Forgets a stopped job (its stream was deleted). */
  dropJob(id: string): void {
    this.jobs.delete(id);
    this.states.delete(id);
    this.switches.delete(id);
  }

  /** Runs `fn` after every earlier operation on stream `id`; a failure does not block the next one. */
  serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.chains.set(id, tail);
    void tail.then(() => this.chains.get(id) === tail && this.chains.delete(id));
    return run;
  }

  /** The argv of a stream's job; RelayError when ffmpeg is missing or the stored params no longer pass. */
  plan(row: RelayStreamRow, source: SourceInfo | null): JobPlan {
    let params: string[] | null = null;
    if (row.ffmpeg_params) {
      const parsed = parseFfmpegParams(row.ffmpeg_params);
      if (!parsed.ok) throw new RelayError('invalid', parsed.errors, 'ffmpeg_params');
      params = parsed.args;
    }
    const args = jobArgs({ rtspUrl: row.rtsp_url, rtmpUrl: row.rtmp_url, preset: row.preset, params, source });
    const unprobed = source === null && row.preset === 'auto';
    return { command: this.binaries().ffmpeg, args, autoRestart: row.auto_restart === 1, unprobed };
  }

  /** ffprobe of a source under the 5 s bound. */
  async probe(url: string): Promise<ProbeOutcome> {
    let ffprobe: string | null;
    try {
      ffprobe = this.binaries().ffprobe;
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    if (!ffprobe) return { ok: false, error: 'no ffprobe found next to ffmpeg or on PATH' };
    return probeSource(ffprobe, url);
  }

  /** Writes a stream log line: masked, to stream_logs (bounded), the bus and the node log. */
  log(streamId: string, level: 'info' | 'warn' | 'error', message: string): void {
    const text = maskText(message).slice(0, 2000);
    try {
      this.deps.store.streamLogs.add(streamId, level, text, this.deps.config().retention.logRows);
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'stream log not stored');
    }
    this.deps.bus.emit('relay.log', { id: streamId, level, message: text });
    this.deps.log[level]({ stream: streamId }, text);
  }

  /**
   * ffmpeg of a job planned without a probe ended (the source was down at its start): probe the source again and,
   * once it answers, run the job with the argv the probe decides (auto: copy or libx264) before the Supervisor's
   * next restart of the guessed one. Serialised with every other operation on the stream.
   */
  private reprobe(id: string): void {
    if (this.reprobing.has(id)) return;
    const done = this.serial(id, async () => {
      const row = this.deps.store.relayStreams.get(id);
      const job = this.jobs.get(id);
      // A URL change waiting for the next start is left to that start (and its own probe).
      if (!row || !job?.unprobed || !job.runs(row.rtsp_url, row.rtmp_url)) return;
      const probe = await this.probe(row.rtsp_url);
      if (!probe.ok || !job.unprobed) return;
      const plan = this.plan(row, probe.info);
      if (await job.replan(plan)) {
        const video = probe.info.video?.codec ?? 'none';
        const how = plan.args.includes('libx264') ? 'libx264' : 'copy';
        this.log(id, 'info', `source probed again: video ${video}, ffmpeg started again with video ${how}`);
      }
    })
      .catch((err: Error) => this.log(id, 'error', `probing the source again failed: ${err.message}`))
      .finally(() => this.reprobing.delete(id));
    this.reprobing.set(id, done);
  }

  private binaries(): { ffmpeg: string; ffprobe: string | null } {
    if (this.bins) return this.bins;
    let ffmpeg: string;
    try {
      ffmpeg = this.deps.ffmpeg();
    } catch (err) {
      throw new RelayError('unavailable', [`ffmpeg: ${(err as Error).message.split('\n')[0]}`]);
    }
    let ffprobe: string | null = null;
    try {
      ffprobe = (this.deps.ffprobe ?? ((p) => resolveFfprobe({ ffmpegPath: p }).path))(ffmpeg);
    } catch {
      // Probes then fail with a clear message; jobs still run.
    }
    this.bins = { ffmpeg, ffprobe };
    return this.bins;
  }

  private setState(id: string, state: RelayStreamState, reason: string | null): void {
    const prev = this.states.get(id);
    if (prev && prev.state === state && prev.reason === reason) return;
    this.states.set(id, { state, reason });
    try {
      this.deps.store.relayStreams.setStatus(id, state);
    } catch {
      // the store is closing
    }
    this.deps.bus.emit('relay.stream.state', { id, state, previous: prev?.state ?? null, reason });
  }

  private startSse(): void {
    const c = this.deps.config().sse;
    this.sseKey = JSON.stringify(c);
    if (!c.url) return;
    const opts = { ...c, url: c.url };
    this.sse = new SseClient(
      opts,
      {
        event: (e) => this.intake.received(e),
        refused: (reason) => this.intake.refused(reason),
        state: (s, reconnectInMs) => {
          this.deps.bus.emit('relay.sse.state', { state: s.state, url: s.url, error: s.lastError, reconnectInMs });
          if (s.state === 'connected') {
            const resume = s.lastEventId ? ` (Last-Event-ID ${JSON.stringify(s.lastEventId.slice(0, 64))})` : '';
            this.log(SSE_LOG_ID, 'info', `connected to ${s.url}${resume}, reconnects so far ${s.reconnects}`);
          } else if (s.state === 'waiting')
            this.log(SSE_LOG_ID, 'warn', `connection lost: ${s.lastError}; reconnecting in ${reconnectInMs} ms`);
        },
      },
      this.deps.store.sseEvents.lastEventId(),
    );
    this.sse.start();
  }

  private toView(r: RelayStreamRow): RelayStreamView {
    const s = this.jobs.get(r.id)?.status() ?? null;
    const st = this.states.get(r.id);
    return {
      id: r.id,
      name: r.name,
      rtspUrl: maskUrl(r.rtsp_url),
      rtmpUrl: maskUrl(r.rtmp_url),
      preset: r.preset,
      ffmpegParams: r.ffmpeg_params === null ? null : maskText(r.ffmpeg_params),
      autoRestart: r.auto_restart === 1,
      enabled: r.enabled === 1,
      state: st?.state ?? 'stopped',
      reason: st?.reason ?? null,
      pid: s?.pid ?? null,
      restarts: s?.restarts ?? 0,
      startedAt: s?.startedAt ?? null,
      progress: s?.progress ?? null,
      lastSwitch: this.switches.get(r.id) ?? null,
      lastUpdateAt: r.last_update_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }
}
