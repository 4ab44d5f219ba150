/** What the relay's parts (URL changes, SSE intake) share with the controller that owns them. */
import type { RelayConfig } from '../config/relay.js';
import type { RelayStreamView, RelaySwitch } from '../defs/relay.js';
import type { EventBus } from '../events/bus.js';
import type { SseEventsRepo, StreamLogsRepo, UrlHistoryRepo } from '../store/repos/relay-log.js';
import type { RelayStreamRow, RelayStreamsRepo } from '../store/repos/relay-streams.js';
import type { ProbeOutcome } from './probe.js';
import type { SourceInfo } from './probe.js';
import type { JobPlan, StreamJob } from './stream-job.js';

/** The tables the relay uses. */
export interface RelayStore {
  relayStreams: RelayStreamsRepo;
  streamLogs: StreamLogsRepo;
  urlHistory: UrlHistoryRepo;
  sseEvents: SseEventsRepo;
  transaction<T>(fn: () => T): T;
}

/** A refusal the API turns into its error shape; `errors` lists every reason (each starts with its field). */
export class RelayError extends Error {
  constructor(
    readonly code: 'not_found' | 'exists' | 'invalid' | 'not_configured' | 'unavailable',
    readonly errors: string[],
    readonly field?: string,
  ) {
    super(errors.join('; '));
    this.name = 'RelayError';
  }
}

/** Pseudo stream id of the SSE client's own log lines (stream ids start with a letter or digit). */
export const SSE_LOG_ID = '_sse';

/** The controller's services, as its parts see them. */
export interface RelayContext {
  store: RelayStore;
  bus: EventBus;
  config(): RelayConfig;
  /** Writes a stream log line (masked) to the table, the bus and the node log. */
  log(streamId: string, level: 'info' | 'warn' | 'error', message: string): void;
  /** The job of a stream (created on first use). */
  job(id: string): StreamJob;
  /** The argv of a stream's job with these URLs; throws RelayError when ffmpeg is missing. */
  plan(row: RelayStreamRow, source: SourceInfo | null): JobPlan;
  /** ffprobe of a source (5 s timeout). */
  probe(url: string): Promise<ProbeOutcome>;
  /** Runs `fn` after every earlier operation on the same stream. */
  serial<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** Remembers a stream's last switch for its view. */
  switched(id: string, s: RelaySwitch): void;
  /** The view of one stream. */
  view(id: string): RelayStreamView | undefined;
}
