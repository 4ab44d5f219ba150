/** The relay as the API sees it: the controller's streams and actions, and the stored logs, history and events. */
import type {
  RelayStreamView,
  SseClientStatus,
  SseEventOutcome,
  SseEventRecord,
  StreamLogRecord,
  UrlHistoryRecord,
} from '../defs/relay.js';
import type { RelayConfig } from '../config/relay.js';
import type { RelayController } from './controller.js';
import {
  controlStream,
  createStream,
  deleteStream,
  updateStream,
  type ControlAction,
  type StreamInput,
  type StreamPatch,
} from './stream-admin.js';
import { changeUrls, type UrlChangeRequest, type UrlChangeResult } from './url-change.js';

/** See the file comment. */
export class RelayService {
  constructor(
    private readonly relay: RelayController,
    private readonly config: () => RelayConfig,
  ) {}

  /** Every stream. */
  list(): RelayStreamView[] {
    return this.relay.list();
  }

  /** One stream, or undefined. */
  get(id: string): RelayStreamView | undefined {
    return this.relay.view(id);
  }

  /** Creates (and usually starts) a stream; throws RelayError. */
  create(input: StreamInput): Promise<RelayStreamView> {
    return createStream(this.relay, input);
  }

  /** Changes a stream; throws RelayError. */
  update(id: string, patch: StreamPatch): Promise<{ stream: RelayStreamView; change: UrlChangeResult | null }> {
    return updateStream(this.relay, id, patch);
  }

  /** Stops and deletes a stream; throws RelayError. */
  remove(id: string): Promise<void> {
    return deleteStream(this.relay, id);
  }

  /** start / stop / restart; returns the stream afterwards. */
  async control(id: string, action: ControlAction): Promise<RelayStreamView> {
    await controlStream(this.relay, id, action);
    return this.relay.view(id)!;
  }

  /** A URL change (the seed's PUT /api/config/urls, POST /api/stream/start). */
  changeUrls(req: UrlChangeRequest): Promise<UrlChangeResult> {
    return changeUrls(this.relay.ctx, req);
  }

  /** The stream url_updates without stream_id apply to. */
  defaultStreamId(): string {
    return this.config().sse.defaultStreamId;
  }

  /** The SSE client's state. */
  sseStatus(): SseClientStatus {
    return this.relay.sseStatus();
  }

  /** Newest stream log lines of one stream (or all, with the SSE client's under `_sse`), newest first. */
  logs(streamId: string | null, limit: number): StreamLogRecord[] {
    return this.relay.ctx.store.streamLogs.recent(streamId, limit).map((r) => ({
      id: r.id,
      streamId: r.stream_id,
      level: r.level,
      message: r.message,
      createdAt: r.created_at,
    }));
  }

  /** Newest URL changes of one stream (or all), newest first. */
  history(streamId: string | null, limit: number): UrlHistoryRecord[] {
    return this.relay.ctx.store.urlHistory.recent(streamId, limit).map((r) => ({
      id: r.id,
      streamId: r.stream_id,
      oldRtspUrl: r.old_rtsp_url,
      newRtspUrl: r.new_rtsp_url,
      oldRtmpUrl: r.old_rtmp_url,
      newRtmpUrl: r.new_rtmp_url,
      changeSource: r.change_source,
      eventId: r.event_id,
      switched: r.switched === 1,
      gapMs: r.gap_ms,
      createdAt: r.created_at,
    }));
  }

  /** Newest received SSE events, newest first. */
  events(limit: number): SseEventRecord[] {
    return this.relay.ctx.store.sseEvents.recent(limit).map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventType: r.event_type,
      data: r.data,
      receivedAt: r.received_at,
      processed: r.processed === 1,
      outcome: r.outcome as SseEventOutcome | null,
      error: r.error,
    }));
  }
}
