/**
 * What the relay does with each event of the control server: store it (data masked), then, one at a time and in
 * arrival order, skip it if its id was processed before (sse_event_ids, kept apart from the pruned events), if it is
 * no url_update, if it does not parse, or if its timestamp is older than the last one applied to its stream;
 * otherwise hand it to changeUrls. The outcome is written back to the stored event.
 */
import type { SseEventOutcome } from '../defs/relay.js';
import { SSE_LOG_ID, type RelayContext } from './context.js';
import type { ReceivedEvent } from './sse-client.js';
import { isUrlUpdate, parseUrlUpdate } from './update.js';
import { changeUrls } from './url-change.js';
import { maskData, maskText } from '../log/mask.js';

/** See the file comment. */
export class SseIntake {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: RelayContext) {}

  /** Stores an event and queues its processing. */
  received(e: ReceivedEvent): void {
    const keep = this.ctx.config().retention.eventRows;
    const rowId = this.ctx.store.sseEvents.add({ eventId: e.id || null, type: e.type, data: maskData(e.data) }, keep);
    this.queue = this.queue
      .then(() => this.process(rowId, e))
      .catch((err: Error) => {
        this.finish(rowId, 'failed', err.message, e.id);
        this.ctx.log(SSE_LOG_ID, 'error', `event ${e.id || '(no id)'} failed: ${err.message}`);
      });
  }

  /** Malformed or oversized input: stored as a refused event and logged with its reason. */
  refused(reason: string): void {
    const keep = this.ctx.config().retention.eventRows;
    const rowId = this.ctx.store.sseEvents.add({ eventId: null, type: '(refused)', data: '' }, keep);
    this.finish(rowId, 'refused', reason, null);
    this.ctx.log(SSE_LOG_ID, 'warn', `refused input from the control server: ${reason}`);
  }

  /** Resolves once every queued event is processed (tests, stop). */
  idle(): Promise<void> {
    return this.queue;
  }

  private async process(rowId: number, e: ReceivedEvent): Promise<void> {
    const { ctx } = this;
    const label = `event ${e.id ? JSON.stringify(e.id.slice(0, 64)) : '(no id)'}`;
    if (e.id && ctx.store.sseEvents.processedBefore(e.id)) {
      ctx.log(SSE_LOG_ID, 'info', `${label} received again: already processed, not applied twice`);
      return this.finish(rowId, 'duplicate', null, e.id);
    }
    if (!isUrlUpdate(e.type, e.data)) return this.finish(rowId, 'ignored', null, e.id);
    const parsed = parseUrlUpdate(e.data);
    if (!parsed.ok) {
      ctx.log(SSE_LOG_ID, 'warn', `${label}: invalid url_update: ${parsed.error}`);
      return this.finish(rowId, 'invalid', parsed.error, e.id);
    }
    const u = parsed.update;
    const streamId = u.streamId ?? ctx.config().sse.defaultStreamId;
    const last = ctx.store.relayStreams.get(streamId)?.last_update_at;
    if (last && u.timestampMs < Date.parse(last)) {
      const when = new Date(u.timestampMs).toISOString();
      ctx.log(streamId, 'info', `${label} ignored: its timestamp ${when} is older than the last applied ${last}`);
      return this.finish(rowId, 'stale', `timestamp ${when} older than ${last}`, e.id);
    }
    const result = await changeUrls(ctx, {
      streamId,
      rtspUrl: u.rtspUrl,
      rtmpUrl: u.rtmpUrl,
      restart: u.restartRequired,
      source: 'sse',
      eventId: e.id || null,
      timestampMs: u.timestampMs,
    });
    const outcome: SseEventOutcome = !result.validated
      ? 'invalid'
      : result.errors.length
        ? 'failed'
        : result.changed
          ? 'applied'
          : 'unchanged';
    this.finish(rowId, outcome, result.errors.length ? result.errors.join('; ') : null, e.id);
  }

  /** Writes the outcome; an event with an id is remembered as processed (duplicates of it are not applied). */
  private finish(rowId: number, outcome: SseEventOutcome, error: string | null, eventId: string | null): void {
    const text = error === null ? null : maskText(error).slice(0, 1000);
    try {
      this.ctx.store.sseEvents.finish(rowId, outcome, text, eventId || null, this.ctx.config().retention.eventRows);
    } catch {
      // The store is closing (node stopping): the outcome is lost, the event itself was stored.
    }
  }
}
